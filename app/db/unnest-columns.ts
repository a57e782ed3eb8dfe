// Statements that write many rows at once take one array per column and unnest them, so that
// their text never changes with the number of rows (the driver parses nothing new per batch).
// Each column is declared once, with its type and its value for a row; the statement's
// parameter list, its column list and the parameters all come from that declaration, so a
// column cannot drift from its array.

/** What a column's array holds as the statement reads it. */
interface Sent {
  int: number;
  bigint: bigint;
  text: string | null;
  boolean: boolean;
  /** Sent as ISO text, read as UTC: the column types are `timestamp` without a zone. */
  timestamp: Date | null;
  /** JSON text, sent as text. */
  jsonb: string | null;
}
type ColumnType = keyof Sent;

export type UnnestColumn<R> = {
  [T in ColumnType]: { name: string; type: T; value: (row: R, index: number) => Sent[T] };
}[ColumnType];

export interface UnnestColumns<R> {
  /** `unnest($1::int[], $2::text[], …) AS t("idx", "shop", …)`, a FROM item. */
  from: string;
  /** t's columns read as their types, for a select list: `t."idx", (t."now"::timestamptz AT TIME ZONE 'UTC') AS "now", …`. */
  select: string;
  /** The number of the first parameter after the arrays. */
  next: number;
  /** The arrays, in the order `from` numbers them. */
  arrays(rows: readonly R[]): unknown[][];
}

const ARRAY_TYPE: Record<ColumnType, string> = {
  int: "int",
  bigint: "bigint",
  text: "text",
  boolean: "boolean",
  timestamp: "text",
  jsonb: "text",
};

function read(column: { name: string; type: ColumnType }): string {
  const name = `"${column.name}"`;
  if (column.type === "timestamp") return `(t.${name}::timestamptz AT TIME ZONE 'UTC') AS ${name}`;
  if (column.type === "jsonb") return `t.${name}::jsonb AS ${name}`;
  return `t.${name}`;
}

function sent(type: ColumnType, value: Sent[ColumnType]): unknown {
  if (value === null) return null;
  if (type === "timestamp") return (value as Date).toISOString();
  // The driver cannot send a bigint; its text is exact.
  if (type === "bigint") return String(value);
  return value;
}

/** The columns of an unnest statement whose arrays are its parameters $first, $first + 1, … */
export function unnestColumns<R>(columns: ReadonlyArray<UnnestColumn<R>>, first = 1): UnnestColumns<R> {
  const params = columns.map((c, i) => `$${first + i}::${ARRAY_TYPE[c.type]}[]`).join(", ");
  const names = columns.map((c) => `"${c.name}"`).join(", ");
  return {
    from: `unnest(${params}) AS t(${names})`,
    select: columns.map(read).join(", "),
    next: first + columns.length,
    arrays: (rows) => columns.map((c) => rows.map((row, i) => sent(c.type, c.value(row, i)))),
  };
}
