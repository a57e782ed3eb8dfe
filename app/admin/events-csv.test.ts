// The CSV export's encoding: escaping as RFC 4180 says, cells a spreadsheet would run as
// formulas made plain text, and nothing of the buyer but hashes' names.
import { describe, expect, it } from "vitest";
import { CSV_COLUMNS, CSV_HEADER, csvCell, csvFilename, csvRow, type CsvEvent } from "./events-csv";

describe("csvCell", () => {
  it.each<[string | number | null | undefined, string]>([
    ["plain", "plain"],
    ["", ""],
    [null, ""],
    [undefined, ""],
    [0, "0"],
    [59.9, "59.9"],
    [Number.NaN, ""],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["cr\rhere", '"cr\rhere"'],
    ['=HYPERLINK("http://x")', '"\'=HYPERLINK(""http://x"")"'],
    ["=1+1", "'=1+1"],
    ["+1 650 555", "'+1 650 555"],
    ["-2", "'-2"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\tTAB", "'\tTAB"],
    ["\r=cmd", '"\'\r=cmd"'],
    ["#1001", "#1001"],
    ["Meta error 100/2804050: Invalid parameter", "Meta error 100/2804050: Invalid parameter"],
  ])("%j → %j", (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });
});

const EMAIL_HASH = "a".repeat(64);
const base: CsvEvent = {
  createdAt: new Date(),
  eventTime: new Date(Date.now() - 60_000),
  eventName: "Purchase",
  eventId: "5678901234567",
  orderName: "#1001",
  state: "rejected",
  pixel: "Brand, B",
  attempts: 2,
  reasonCode: "invalid_parameter",
  reason: '=Meta said "no"',
  fbtraceId: "TRACE-1",
  testEventCode: null,
  payload: {
    user_data: {
      em: EMAIL_HASH,
      ph: [EMAIL_HASH],
      fbp: "fb.1.1.2",
      client_ip_address: "203.0.113.7",
      client_user_agent: "Mozilla/5.0",
      fn: "",
    },
    custom_data: { value: 59.9, currency: "USD" },
  },
};

/** The cells of one line (quotes undone), for the assertions. */
function cells(line: string): string[] {
  const out: string[] = [];
  let cell = "";
  let quoted = false;
  const text = line.replace(/\r\n$/, "");
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(cell);
      cell = "";
    } else cell += ch;
  }
  out.push(cell);
  return out;
}

describe("csvRow", () => {
  it("writes one line per event, a cell per column, in the header's order", () => {
    expect(cells(CSV_HEADER)).toEqual([...CSV_COLUMNS]);
    const line = csvRow(base);
    expect(line.endsWith("\r\n")).toBe(true);
    const row = Object.fromEntries(cells(line).map((v, i) => [CSV_COLUMNS[i], v]));
    expect(row).toEqual({
      created_at: base.createdAt.toISOString(),
      event_time: base.eventTime.toISOString(),
      event_name: "Purchase",
      event_id: "5678901234567",
      order_name: "#1001",
      state: "rejected",
      state_label: "Rejected by Meta",
      pixel: "Brand, B",
      attempts: "2",
      reason_code: "invalid_parameter",
      reason: `'=Meta said "no"`,
      fbtrace_id: "TRACE-1",
      test_event_code: "",
      value: "59.9",
      currency: "USD",
      match_keys: "em fbp ph",
    });
  });

  it("never writes the buyer's IP, user agent or a hash's value", () => {
    const line = csvRow(base);
    expect(line).not.toContain("203.0.113");
    expect(line).not.toContain("Mozilla");
    expect(line).not.toContain(EMAIL_HASH);
  });

  it("writes an event without payload or pixel with empty cells", () => {
    const row = cells(csvRow({ ...base, payload: null, pixel: "", orderName: null, state: "lost" }));
    expect(row).toHaveLength(CSV_COLUMNS.length);
    expect(row[CSV_COLUMNS.indexOf("match_keys")]).toBe("");
    expect(row[CSV_COLUMNS.indexOf("state_label")]).toBe("lost");
  });
});

describe("csvFilename", () => {
  it("names the shop and the day", () => {
    const now = new Date();
    expect(csvFilename("brand-b.myshopify.com", now)).toBe(`capi-events-brand-b-${now.toISOString().slice(0, 10)}.csv`);
  });
});
