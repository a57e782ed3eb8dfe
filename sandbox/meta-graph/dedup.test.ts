import { describe, expect, it } from "vitest";
import {
  BROWSER_PREFERRED_MS,
  DEDUP_WINDOW_MS,
  deduplicate,
  eventCounts,
  type Arrival,
  type Channel,
  type Verdict,
} from "./dedup";

const T = Date.UTC(2026, 10, 20, 12, 0, 0);
const MIN = 60_000;

/** [channel, pixel, event_name, event_id, ms after T] */
type Row = [Channel, string, string, string | undefined, number];
const arrivals = (rows: Row[]): Arrival[] =>
  rows.map(([channel, pixelId, eventName, eventId, at]) => ({
    channel,
    pixelId,
    eventName,
    ...(eventId === undefined ? {} : { eventId }),
    receivedAt: T + at,
  }));

const CASES: Array<[string, Row[], Verdict[]]> = [
  [
    "server then browser within 5 minutes: the browser copy is kept instead, one event",
    [
      ["server", "1", "Purchase", "5001", 0],
      ["browser", "1", "Purchase", "5001", 2 * MIN],
    ],
    ["counted", "replaces"],
  ],
  [
    "server then browser after 5 minutes, within 48 h: the server copy stays, the browser's is a duplicate",
    [
      ["server", "1", "Purchase", "5001", 0],
      ["browser", "1", "Purchase", "5001", BROWSER_PREFERRED_MS + 1],
    ],
    ["counted", "duplicate"],
  ],
  [
    "browser then server: the first copy (the browser's) is kept",
    [
      ["browser", "1", "Purchase", "5001", 0],
      ["server", "1", "Purchase", "5001", MIN],
    ],
    ["counted", "duplicate"],
  ],
  [
    "exactly 48 h later is still the same event; a millisecond after, a new one",
    [
      ["server", "1", "Purchase", "5001", 0],
      ["browser", "1", "Purchase", "5001", DEDUP_WINDOW_MS],
      ["server", "1", "Purchase", "5001", DEDUP_WINDOW_MS + 1],
    ],
    ["counted", "duplicate", "counted"],
  ],
  [
    "the window runs from the first copy, not from a browser copy that replaced it",
    [
      ["server", "1", "Purchase", "5001", 0],
      ["browser", "1", "Purchase", "5001", MIN],
      ["server", "1", "Purchase", "5001", DEDUP_WINDOW_MS + 1],
    ],
    ["counted", "replaces", "counted"],
  ],
  [
    "another pixel, another event name or another id: other events",
    [
      ["server", "1", "Purchase", "5001", 0],
      ["browser", "2", "Purchase", "5001", 0],
      ["browser", "1", "purchase", "5001", 0],
      ["browser", "1", "Purchase", "5002", 0],
    ],
    ["counted", "counted", "counted", "counted"],
  ],
  [
    "without an event id nothing is deduplicated",
    [
      ["browser", "1", "PageView", undefined, 0],
      ["browser", "1", "PageView", undefined, 0],
      ["server", "1", "PageView", "", 0],
    ],
    ["counted", "counted", "counted"],
  ],
  [
    "two browser copies (a thank-you page reloaded): one event",
    [
      ["browser", "1", "Purchase", "5001", 0],
      ["browser", "1", "Purchase", "5001", MIN],
    ],
    ["counted", "duplicate"],
  ],
  [
    "a server retry after the browser copy replaced the first: still one",
    [
      ["server", "1", "Purchase", "5001", 0],
      ["browser", "1", "Purchase", "5001", MIN],
      ["server", "1", "Purchase", "5001", 2 * MIN],
    ],
    ["counted", "replaces", "duplicate"],
  ],
];

describe("Meta's deduplication of browser and server copies", () => {
  it.each(CASES)("%s", (_name, rows, verdicts) => {
    expect(deduplicate(arrivals(rows))).toEqual(verdicts);
  });

  it("counts per pixel: copies received by channel, events counted, per event name", () => {
    const rows: Row[] = [
      ["browser", "1", "PageView", undefined, 0],
      ["browser", "1", "ViewContent", "vc-1", 0],
      ["server", "1", "Purchase", "5001", MIN],
      ["browser", "1", "Purchase", "5001", 2 * MIN],
      ["server", "2", "Purchase", "5001", MIN],
    ];
    expect(eventCounts(arrivals(rows), "1")).toEqual({
      received: 4,
      browser: 3,
      server: 1,
      counted: 3,
      byEvent: {
        PageView: { received: 1, browser: 1, server: 0, counted: 1 },
        ViewContent: { received: 1, browser: 1, server: 0, counted: 1 },
        Purchase: { received: 2, browser: 1, server: 1, counted: 1 },
      },
    });
    expect(eventCounts(arrivals(rows), "3")).toEqual({ received: 0, browser: 0, server: 0, counted: 0, byEvent: {} });
  });
});
