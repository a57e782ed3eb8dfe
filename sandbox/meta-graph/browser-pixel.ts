// The browser half of Meta: the pixel endpoint `/tr` that fbevents.js (and the web pixel's own
// sender, extensions/capi-relay-pixel/src/mapping.js pixelRequest) send to, and a small
// fbevents.js that turns fbq() calls into /tr requests as Meta's does. Only the parameters the
// stand-in uses are checked; Meta's pixel sends many more (v, r, it, coo...), which are ignored.
import { z } from "zod";
import { FBC, FBP, SHA256 } from "./rules";

/** A GET's query or a POST's form body: Meta's own script switches to POST past about 2 KB. */
export const MAX_TR_BYTES = 16_384;
export const MAX_TR_PARAMS = 200;
const MAX_MAP_KEYS = 50;

const text = (max: number) => z.string().min(1).max(max);
const map = (value: z.ZodString) =>
  z
    .record(z.string().min(1).max(100), value)
    .refine((m) => Object.keys(m).length <= MAX_MAP_KEYS, `at most ${MAX_MAP_KEYS} keys`);

export const trParamsSchema = z.object({
  id: z.string().regex(/^\d{1,20}$/, "id must be a pixel id"),
  ev: text(100),
  eid: text(200).optional(),
  dl: text(2048).optional(),
  rl: text(2048).optional(),
  ts: z
    .string()
    .regex(/^\d{10,13}$/, "ts must be a time in ms")
    .optional(),
  fbp: z.string().regex(FBP, "fbp must be fb.<subdomain index>.<creation time>.<random number>").optional(),
  fbc: z.string().regex(FBC, "fbc must be fb.<subdomain index>.<creation time>.<fbclid>").optional(),
  dpo: z.enum(["LDU"]).optional(),
  dpoco: z
    .string()
    .regex(/^\d{1,4}$/)
    .optional(),
  dpost: z
    .string()
    .regex(/^\d{1,6}$/)
    .optional(),
  cd: map(z.string().max(4000)),
  ud: map(z.string().regex(SHA256, "ud[...] must be SHA-256 hex, as the pixel hashes it")),
});

export interface BrowserEvent {
  pixelId: string;
  eventName: string;
  eventId?: string;
  fbp?: string;
  fbc?: string;
  /** dl: the page the event happened on. */
  url?: string;
  customData: Record<string, string>;
  userData: Record<string, string>;
  /** Limited Data Use (dpo=LDU). */
  ldu: boolean;
  /** ts, when the browser sent it. */
  sentAt?: number;
  method: "GET" | "POST";
  /** By the stand-in's clock. */
  receivedAt: number;
}

/**
 * A /tr request's parameters (query, and form body for a POST) as a browser event, or the
 * problem. Empty values count as absent, as Meta's pixel leaves out what it does not have.
 */
export function parseTrParams(
  params: URLSearchParams,
  method: "GET" | "POST",
  receivedAt: number,
): { event: BrowserEvent } | { problem: string } {
  const entries = [...params.entries()].filter(([, v]) => v !== "");
  if (entries.length > MAX_TR_PARAMS) return { problem: `at most ${MAX_TR_PARAMS} parameters` };
  const flat: Record<string, unknown> = { cd: {}, ud: {} };
  for (const [name, value] of entries) {
    const nested = /^(cd|ud)\[([^\]]+)\]$/.exec(name);
    if (nested) (flat[nested[1]!] as Record<string, string>)[nested[2]!] = value;
    else if (name in trParamsSchema.shape && !(name in flat)) flat[name] = value;
  }
  const parsed = trParamsSchema.safeParse(flat);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { problem: `${issue.path.join(".") || "request"}: ${issue.message}` };
  }
  const p = parsed.data;
  return {
    event: {
      pixelId: p.id,
      eventName: p.ev,
      ...(p.eid === undefined ? {} : { eventId: p.eid }),
      ...(p.fbp === undefined ? {} : { fbp: p.fbp }),
      ...(p.fbc === undefined ? {} : { fbc: p.fbc }),
      ...(p.dl === undefined ? {} : { url: p.dl }),
      customData: p.cd,
      userData: p.ud,
      ldu: p.dpo === "LDU",
      ...(p.ts === undefined ? {} : { sentAt: Number(p.ts) }),
      method,
      receivedAt,
    },
  };
}

/**
 * fbevents.js as the stand-in serves it: it takes over the page's fbq stub (calls queued
 * before it loaded included) and sends each track to `trUrl` as an image request, with the
 * first-party cookies as Meta's pixel sends them. Like Meta's, it makes `_fbp` when missing and
 * `_fbc` from the page's fbclid when missing; consent revoked, it sends nothing.
 */
export function fbeventsScript(trUrl: string): string {
  return `(function () {
  var fbq = window.fbq;
  if (!fbq || fbq.standIn) return;
  var TR = ${JSON.stringify(trUrl)};
  var pixels = [], revoked = false, dpo = null;
  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function setCookie(name, value) {
    document.cookie = name + "=" + encodeURIComponent(value) + "; path=/; max-age=7776000; SameSite=Lax";
  }
  function ids() {
    var now = Date.now();
    if (!cookie("_fbp")) setCookie("_fbp", "fb.1." + now + "." + Math.floor(1e9 + Math.random() * 9e9));
    var fbclid = new URLSearchParams(location.search).get("fbclid");
    if (fbclid && !cookie("_fbc")) setCookie("_fbc", "fb.1." + now + "." + fbclid);
    return { fbp: cookie("_fbp"), fbc: cookie("_fbc") };
  }
  function send(pixelId, ev, params, options) {
    var q = new URLSearchParams();
    var browser = ids();
    q.set("id", pixelId);
    q.set("ev", ev);
    if (options && options.eventID) q.set("eid", String(options.eventID));
    q.set("dl", location.href);
    if (document.referrer) q.set("rl", document.referrer);
    q.set("ts", String(Date.now()));
    for (var key in params || {}) {
      var v = params[key];
      if (v !== undefined && v !== null) q.set("cd[" + key + "]", typeof v === "object" ? JSON.stringify(v) : String(v));
    }
    if (browser.fbp) q.set("fbp", browser.fbp);
    if (browser.fbc) q.set("fbc", browser.fbc);
    if (dpo) { q.set("dpo", dpo[0] || ""); q.set("dpoco", String(dpo[1] || 0)); q.set("dpost", String(dpo[2] || 0)); }
    new Image().src = TR + "?" + q.toString();
  }
  fbq.standIn = true;
  fbq.callMethod = function (command) {
    var args = Array.prototype.slice.call(arguments, 1);
    if (command === "init") { if (pixels.indexOf(String(args[0])) < 0) pixels.push(String(args[0])); return; }
    if (command === "consent") { revoked = args[0] === "revoke"; return; }
    if (command === "dataProcessingOptions") { dpo = args[0] && args[0].length ? [args[0][0], args[1], args[2]] : null; return; }
    if (revoked) return;
    if (command === "track" || command === "trackCustom")
      pixels.forEach(function (id) { send(id, args[0], args[1], args[2]); });
    if (command === "trackSingle" || command === "trackSingleCustom") send(String(args[0]), args[1], args[2], args[3]);
  };
  fbq.queue.splice(0).forEach(function (args) { fbq.callMethod.apply(fbq, args); });
})();
`;
}
