// The text and the parameters of an unnest statement come from one declaration of its columns.
import { describe, expect, it } from "vitest";
import { unnestColumns, type UnnestColumn } from "./unnest-columns";

interface Row {
  id: bigint;
  name: string | null;
  at: Date | null;
  doc: string | null;
  flag: boolean;
}

const COLUMNS: Array<UnnestColumn<Row>> = [
  { name: "idx", type: "int", value: (_, i) => i },
  { name: "id", type: "bigint", value: (r) => r.id },
  { name: "name", type: "text", value: (r) => r.name },
  { name: "at", type: "timestamp", value: (r) => r.at },
  { name: "doc", type: "jsonb", value: (r) => r.doc },
  { name: "flag", type: "boolean", value: (r) => r.flag },
];

describe("unnest columns", () => {
  it.each<[string, number, string, number]>([
    [
      "numbered from $1",
      1,
      `unnest($1::int[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::boolean[]) AS t("idx", "id", "name", "at", "doc", "flag")`,
      7,
    ],
    [
      "numbered after two other parameters",
      3,
      `unnest($3::int[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::boolean[]) AS t("idx", "id", "name", "at", "doc", "flag")`,
      9,
    ],
  ])("%s", (_what, first, from, next) => {
    const columns = unnestColumns(COLUMNS, first);
    expect(columns.from).toBe(from);
    expect(columns.next).toBe(next);
  });

  it("reads timestamps as UTC and JSON as jsonb, the rest as sent", () => {
    expect(unnestColumns(COLUMNS).select).toBe(
      `t."idx", t."id", t."name", (t."at"::timestamptz AT TIME ZONE 'UTC') AS "at", t."doc"::jsonb AS "doc", t."flag"`,
    );
  });

  it.each<[string, Row[], unknown[][]]>([
    ["no rows: one empty array per column", [], [[], [], [], [], [], []]],
    [
      "rows: one array per column, in row order",
      [
        { id: 9007199254740993n, name: "a", at: new Date("2026-11-21T12:00:00Z"), doc: `{"k":1}`, flag: true },
        { id: 2n, name: null, at: null, doc: null, flag: false },
      ],
      [
        [0, 1],
        ["9007199254740993", "2"],
        ["a", null],
        ["2026-11-21T12:00:00.000Z", null],
        [`{"k":1}`, null],
        [true, false],
      ],
    ],
  ])("%s", (_what, rows, arrays) => {
    expect(unnestColumns(COLUMNS).arrays(rows)).toEqual(arrays);
  });
});
