import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { checkEvent } from "./rules";
import { DEDUP_WINDOW_MS, startMetaSandbox, type Fault, type MetaSandbox } from "./server";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const START = Date.UTC(2026, 10, 20, 12, 0, 0);
const DAY_S = 86_400;
const PIXEL = "1234567890";
const TOKEN = "EAAtoken123";

let clock = START;
const nowS = () => Math.floor(clock / 1000);
let sandbox: MetaSandbox;

type Event = Record<string, unknown> & { user_data: Record<string, unknown> };

/** A Purchase as Meta documents it, hashed by hand with node:crypto. */
function goodEvent(id = "order-1001"): Event {
  return {
    event_name: "Purchase",
    event_time: nowS() - 3600,
    event_id: id,
    action_source: "website",
    event_source_url: "https://shop.example.com/checkouts/abc/thank_you",
    user_data: {
      em: [sha("jane@example.com")],
      ph: [sha("14155550132")],
      fn: [sha("jane")],
      ln: [sha("doe")],
      ge: [sha("f")],
      db: [sha("19900214")],
      ct: [sha("sanfrancisco")],
      st: [sha("ca")],
      zp: [sha("94103")],
      country: [sha("us")],
      external_id: [sha("customer-42")],
      client_ip_address: "203.0.113.7",
      client_user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15",
      fbc: "fb.1.1795180805221.IwAR2F4-Nn8kXq_7",
      fbp: "fb.1.1795180805221.1234567890",
    },
    custom_data: { value: 129.5, currency: "USD", content_type: "product", content_ids: ["sku-1"] },
  };
}

function withEvent(change: (e: Event) => void, id?: string): Event {
  const e = goodEvent(id);
  change(e);
  return e;
}

interface PostOptions {
  token?: string | null;
  pixel?: string;
  form?: boolean;
  query?: string;
  target?: MetaSandbox;
}

async function post(body: unknown, o: PostOptions = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = {
    "content-type": o.form ? "application/x-www-form-urlencoded" : "application/json",
  };
  if (o.token !== null) headers.authorization = `Bearer ${o.token ?? TOKEN}`;
  const payload =
    typeof body === "string"
      ? body
      : o.form
        ? new URLSearchParams(
            Object.entries(body as object).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
          ).toString()
        : JSON.stringify(body);
  const target = o.target ?? sandbox;
  const response = await fetch(`${target.url}/v24.0/${o.pixel ?? PIXEL}/events${o.query ?? ""}`, {
    method: "POST",
    headers,
    body: payload,
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

async function control(route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(
    `${sandbox.url}${route}`,
    body === undefined ? {} : { method: "POST", body: JSON.stringify(body) },
  );
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  sandbox = await startMetaSandbox({ now: () => clock });
});
afterAll(async () => sandbox.close());
beforeEach(() => {
  clock = START;
  sandbox.reset();
});

describe("a well-formed request", () => {
  it("is accepted in Meta's shape and recorded with its test_event_code", async () => {
    const { status, body } = await post({
      data: [goodEvent()],
      test_event_code: "TEST4039",
      partner_agent: "capi-relay",
    });
    expect(status).toBe(200);
    expect(body).toEqual({ events_received: 1, messages: [], fbtrace_id: expect.stringMatching(/^\S{8,}$/) });
    expect(sandbox.accepted(PIXEL)).toEqual([
      { pixelId: PIXEL, event: goodEvent(), testEventCode: "TEST4039", partnerAgent: "capi-relay", receivedAt: START },
    ]);
    expect(sandbox.requests()).toEqual({
      total: 1,
      accepted: 1,
      rejected: 0,
      unanswered: 0,
      eventsReceived: 1,
      rejectedByCode: {},
    });
  });

  it.each<[string, (e: Event) => void]>([
    ["exactly 7 days old", (e) => void (e.event_time = nowS() - 7 * DAY_S)],
    ["exactly 60 s in the future", (e) => void (e.event_time = nowS() + 60)],
    [
      "a physical_store event 61 days old",
      (e) => Object.assign(e, { action_source: "physical_store", event_time: nowS() - 61 * DAY_S }),
    ],
    [
      "hashes with Meta's appendix",
      (e) => Object.assign(e.user_data, { em: `${sha("a@b.co")}.AQYBAQIA`, ph: [`${sha("1")}.AQYBAQIA`] }),
    ],
    [
      "fbc and fbp with an appendix",
      (e) =>
        Object.assign(e.user_data, {
          fbc: "fb.1.1795180805221.IwAR2F4.AQYBAQIA",
          fbp: "fb.2.1795180805221.987654321.AQYBAQIA",
        }),
    ],
    ["a raw external_id", (e) => void (e.user_data.external_id = "customer-42")],
    ["an IPv6 address", (e) => void (e.user_data.client_ip_address = "2001:db8::7")],
    ["no fbc, fbp or IP", (e) => void (e.user_data = { em: sha("a@b.co"), client_user_agent: "Mozilla/5.0" })],
    [
      "a website event without client_user_agent (matched less well, not refused)",
      (e) => void delete e.user_data.client_user_agent,
    ],
    [
      "a non-website event without URL or user agent",
      (e) =>
        Object.assign(e, { action_source: "email", event_source_url: undefined, user_data: { em: sha("a@b.co") } }),
    ],
    [
      "a non-Purchase event without custom_data",
      (e) => Object.assign(e, { event_name: "PageView", custom_data: undefined }),
    ],
    ["lowercase currency", (e) => void (e.custom_data = { value: 1, currency: "eur" })],
    [
      "Limited Data Use",
      (e) =>
        Object.assign(e, {
          data_processing_options: ["LDU"],
          data_processing_options_country: 1,
          data_processing_options_state: 1000,
        }),
    ],
    ["no data processing options", (e) => void (e.data_processing_options = [])],
  ])("accepts %s", async (_name, change) => {
    const { status, body } = await post({ data: [withEvent(change)] });
    expect(body).toMatchObject({ events_received: 1 });
    expect(status).toBe(200);
  });

  it("accepts exactly 1,000 events", async () => {
    const data = Array.from({ length: 1000 }, (_, i) => goodEvent(`order-${i}`));
    expect((await post({ data })).body.events_received).toBe(1000);
    expect(sandbox.accepted()).toHaveLength(1000);
  });
});

describe("one invalid event rejects the whole request", () => {
  const TOO_OLD = 2804003;
  const FUTURE = 2804004;
  const UNHASHED = 2804016;
  const FBC = 2804001;
  const PARAM = 2804019;
  const unhashed: [string, (e: Event) => void, number][] = (
    ["em", "ph", "fn", "ln", "ge", "db", "ct", "st", "zp", "country"] as const
  ).map((key) => [
    `an unhashed ${key}`,
    (e) => void (e.user_data[key] = key === "em" ? "jane@example.com" : "Jane Doe"),
    UNHASHED,
  ]);
  it.each<[string, (e: Event) => void, number]>([
    ["an event 7 days and 1 s old", (e) => void (e.event_time = nowS() - 7 * DAY_S - 1), TOO_OLD],
    [
      "a physical_store event 63 days old",
      (e) => Object.assign(e, { action_source: "physical_store", event_time: nowS() - 63 * DAY_S }),
      TOO_OLD,
    ],
    ["an event 61 s in the future", (e) => void (e.event_time = nowS() + 61), FUTURE],
    ["event_time in milliseconds", (e) => void (e.event_time = clock), FUTURE],
    ["event_time as a string", (e) => void (e.event_time = String(nowS())), PARAM],
    ["a fractional event_time", (e) => void (e.event_time = nowS() + 0.5), PARAM],
    ["no event_time", (e) => void delete e.event_time, PARAM],
    ["no event_name", (e) => void delete e.event_name, PARAM],
    ["an empty event_name", (e) => void (e.event_name = " "), PARAM],
    ["no action_source", (e) => void delete e.action_source, PARAM],
    ["an unknown action_source", (e) => void (e.action_source = "web"), PARAM],
    ["a website event without event_source_url", (e) => void delete e.event_source_url, PARAM],
    ["a website event with a relative event_source_url", (e) => void (e.event_source_url = "/thank_you"), PARAM],
    ["no user_data", (e) => void delete (e as Record<string, unknown>).user_data, PARAM],
    [
      "user_data without customer information",
      (e) => Object.assign(e, { action_source: "system_generated", user_data: { em: [] } }),
      PARAM,
    ],
    ...unhashed,
    ["a hash in uppercase hex", (e) => void (e.user_data.em = sha("a@b.co").toUpperCase()), UNHASHED],
    ["one raw value in an array of hashes", (e) => void (e.user_data.ph = [sha("1"), "+14155550132"]), UNHASHED],
    [
      "an MD5 instead of SHA-256",
      (e) => void (e.user_data.em = createHash("md5").update("a@b.co").digest("hex")),
      UNHASHED,
    ],
    ["an fbclid sent as fbc", (e) => void (e.user_data.fbc = "IwAR2F4-Nn8kXq_7"), FBC],
    ["an fbc without creation time", (e) => void (e.user_data.fbc = "fb.1.IwAR2F4"), FBC],
    ["a malformed fbp", (e) => void (e.user_data.fbp = "GA1.1.123.456"), PARAM],
    ["an invalid IP address", (e) => void (e.user_data.client_ip_address = "999.0.0.1"), PARAM],
    ["a value as a string", (e) => void (e.custom_data = { value: "129.50", currency: "USD" }), PARAM],
    ["a two-letter currency", (e) => void (e.custom_data = { value: 1, currency: "US" }), PARAM],
    ["a Purchase without currency", (e) => void (e.custom_data = { value: 1 }), PARAM],
    ["a Purchase without value", (e) => void (e.custom_data = { currency: "USD" }), PARAM],
    ["a Purchase without custom_data", (e) => void delete e.custom_data, PARAM],
    ["data_processing_options as a string", (e) => void (e.data_processing_options = "LDU"), PARAM],
  ])("rejects %s", async (_name, change, subcode) => {
    const { status, body } = await post({
      data: [goodEvent("fine-0"), withEvent(change, "bad-1"), goodEvent("fine-2")],
    });
    expect(status).toBe(400);
    expect(body).toEqual({
      error: {
        message: "Invalid parameter",
        type: "OAuthException",
        code: 100,
        error_subcode: subcode,
        error_user_title: expect.any(String),
        error_user_msg: expect.stringContaining("(event at index 1)"),
        fbtrace_id: expect.any(String),
        is_transient: false,
      },
    });
    expect(sandbox.accepted()).toHaveLength(0);
    expect(sandbox.requests()).toMatchObject({
      total: 1,
      accepted: 0,
      rejected: 1,
      rejectedByCode: { [`100/${subcode}`]: 1 },
    });
  });

  it("names the unhashed key in Meta's words", async () => {
    const { body } = await post({ data: [withEvent((e) => void (e.user_data.ct = "San Francisco"))] });
    expect(body.error).toMatchObject({
      error_user_title: "User Parameter Not Hashed",
      error_user_msg: expect.stringMatching(/^The ct parameter isn't hashed/),
    });
  });
});

describe("the request envelope", () => {
  it.each<[string, unknown]>([
    ["an empty data array", { data: [] }],
    ["no data", { test_event_code: "TEST1" }],
    ["data that is not an array", { data: { event_name: "Purchase" } }],
    ["an event that is not an object", { data: ["Purchase"] }],
    ["1,001 events", { data: Array.from({ length: 1001 }, (_, i) => goodEvent(`o-${i}`)) }],
    ["a body that is not JSON", "{data: [}"],
  ])("rejects %s with 400 and code 100", async (_name, body) => {
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 100, type: "OAuthException", is_transient: false });
    expect(sandbox.accepted()).toHaveLength(0);
  });

  it("takes form-encoded bodies with data as a JSON string, token and test code included", async () => {
    const { status } = await post(
      { data: [goodEvent()], access_token: TOKEN, test_event_code: "TEST77" },
      { form: true, token: null },
    );
    expect(status).toBe(200);
    expect(sandbox.accepted()).toMatchObject([{ testEventCode: "TEST77", event: { event_id: "order-1001" } }]);
  });

  it("rejects form-encoded data that is not JSON", async () => {
    const answer = await post("data=%5Bnot+json", { form: true });
    expect(answer.body.error).toMatchObject({ code: 100 });
  });

  it("answers an unknown path and a GET on the edge as the Graph API does", async () => {
    const unknown = await fetch(`${sandbox.url}/v24.0/${PIXEL}/evnts`, { method: "POST" });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as any).error).toMatchObject({ code: 2500, type: "OAuthException" });
    const get = await fetch(`${sandbox.url}/v24.0/${PIXEL}/events`);
    expect(((await get.json()) as any).error).toMatchObject({ code: 100, error_subcode: 33 });
    expect(sandbox.requests().total).toBe(0);
  });
});

describe("the access token", () => {
  it("travels in the Authorization header, the body or the query", async () => {
    expect((await post({ data: [goodEvent()] })).status).toBe(200);
    expect((await post({ data: [goodEvent()], access_token: TOKEN }, { token: null })).status).toBe(200);
    expect((await post({ data: [goodEvent()] }, { token: null, query: `?access_token=${TOKEN}` })).status).toBe(200);
  });

  it("missing: Meta's code 104 OAuthException", async () => {
    const { status, body } = await post({ data: [goodEvent()] }, { token: null });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      code: 104,
      type: "OAuthException",
      message: "An access token is required to request this resource.",
    });
  });

  it("revoked: code 190, subcode 460, until allowed again", async () => {
    sandbox.revokeToken(TOKEN);
    const { status, body, headers } = await post({ data: [goodEvent()] });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 190, error_subcode: 460, type: "OAuthException", is_transient: false });
    expect(headers.get("www-authenticate")).toMatch(/invalid_token/);
    expect((await post({ data: [goodEvent()] }, { token: "EAAother" })).status).toBe(200);
    sandbox.allowToken(TOKEN);
    expect((await post({ data: [goodEvent()] })).status).toBe(200);
    expect(sandbox.requests().rejectedByCode).toEqual({ "190/460": 1 });
  });

  describe("with an app secret", () => {
    let strict: MetaSandbox;
    beforeAll(async () => {
      strict = await startMetaSandbox({ now: () => clock, appSecret: "app-secret-1" });
    });
    afterAll(async () => strict.close());
    const proof = createHmac("sha256", "app-secret-1").update(TOKEN).digest("hex");

    it.each<[string, Record<string, unknown>, string, number, string | RegExp]>([
      ["no proof", {}, "", 400, "API calls from the server require an appsecret_proof argument"],
      [
        "a wrong proof",
        { appsecret_proof: createHmac("sha256", "other").update(TOKEN).digest("hex") },
        "",
        400,
        "Invalid appsecret_proof provided in the API argument",
      ],
      [
        "a proof of another token",
        { appsecret_proof: createHmac("sha256", "app-secret-1").update("EAAother").digest("hex") },
        "",
        400,
        /Invalid appsecret_proof/,
      ],
      ["the right proof in the body", { appsecret_proof: proof }, "", 200, ""],
      ["the right proof in the query", {}, `?appsecret_proof=${proof}`, 200, ""],
    ])("%s: %i", async (_name, extra, query, status, message) => {
      const answer = await post({ data: [goodEvent()], ...extra }, { target: strict, query });
      expect(answer.status).toBe(status);
      if (status !== 200) expect(answer.body.error).toMatchObject({ code: 100, type: "GraphMethodException", message });
    });
  });
});

describe("the pixel node: GET /{version}/{pixel} (the connection check)", () => {
  async function read(o: { pixel?: string; token?: string | null; query?: string; target?: MetaSandbox } = {}) {
    const headers: Record<string, string> = o.token === null ? {} : { authorization: `Bearer ${o.token ?? TOKEN}` };
    const target = o.target ?? sandbox;
    const response = await fetch(`${target.url}/v24.0/${o.pixel ?? PIXEL}${o.query ?? "?fields=id,name"}`, { headers });
    return { status: response.status, body: (await response.json()) as any, headers: response.headers };
  }

  it("answers {id, name} for a pixel and a working token, recorded as a read, not as an events request", async () => {
    expect(await read()).toMatchObject({ status: 200, body: { id: PIXEL, name: `Stand-in pixel ${PIXEL}` } });
    expect((await read({ query: "?fields=id" })).body).toEqual({ id: PIXEL });
    expect((await read({ query: "" })).body).toEqual({ id: PIXEL, name: `Stand-in pixel ${PIXEL}` });
    expect((await read({ token: null, query: `?fields=id,name&access_token=${TOKEN}` })).status).toBe(200);
    expect(sandbox.pixelReads()).toEqual([
      { pixelId: PIXEL, status: 200, tokenInQuery: false },
      { pixelId: PIXEL, status: 200, tokenInQuery: false },
      { pixelId: PIXEL, status: 200, tokenInQuery: false },
      { pixelId: PIXEL, status: 200, tokenInQuery: true },
    ]);
    expect(sandbox.requests().total).toBe(0);
  });

  it("unknown pixel: Meta's 100/33 GraphMethodException, on the node and on its events", async () => {
    sandbox.unknownPixel("5550001111");
    const answer = await read({ pixel: "5550001111" });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({
      code: 100,
      error_subcode: 33,
      type: "GraphMethodException",
      message:
        "Unsupported get request. Object with ID '5550001111' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
    });
    const events = await post({ data: [goodEvent()] }, { pixel: "5550001111" });
    expect(events.body.error).toMatchObject({
      code: 100,
      error_subcode: 33,
      message: expect.stringMatching(/^Unsupported post request\. Object with ID '5550001111'/),
    });
    expect((await read()).status).toBe(200);
    sandbox.reset();
    expect((await read({ pixel: "5550001111" })).status).toBe(200);
  });

  it("unknownPixels option: those ids never exist, across reset", async () => {
    const strict = await startMetaSandbox({ unknownPixels: ["777"], pixelNames: { [PIXEL]: "Shop pixel" } });
    try {
      expect((await read({ pixel: "777", target: strict })).body.error).toMatchObject({ code: 100, error_subcode: 33 });
      strict.reset();
      expect((await read({ pixel: "777", target: strict })).body.error).toMatchObject({ code: 100, error_subcode: 33 });
      expect((await read({ target: strict })).body).toEqual({ id: PIXEL, name: "Shop pixel" });
    } finally {
      await strict.close();
    }
  });

  it("revoked token: 190/460 with WWW-Authenticate; denied token: 200 Permissions error; both until allowed", async () => {
    sandbox.revokeToken(TOKEN);
    const revoked = await read();
    expect(revoked.status).toBe(400);
    expect(revoked.body.error).toMatchObject({ code: 190, error_subcode: 460, type: "OAuthException" });
    expect(revoked.headers.get("www-authenticate")).toMatch(/invalid_token/);
    sandbox.allowToken(TOKEN);

    sandbox.denyToken(TOKEN);
    const denied = await read();
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: 200, type: "OAuthException", message: "(#200) Permissions error" });
    expect((await post({ data: [goodEvent()] })).body.error).toMatchObject({ code: 200 });
    expect((await read({ token: "EAAother" })).status).toBe(200);
    sandbox.allowToken(TOKEN);
    expect((await read()).status).toBe(200);
    expect(sandbox.pixelReads().map((r) => r.code ?? r.status)).toEqual(["190/460", "200", 200, 200]);
  });

  it("no token: 104; an unknown field: 100; a POST on the node: 100/33", async () => {
    expect((await read({ token: null })).body.error).toMatchObject({ code: 104 });
    expect((await read({ query: "?fields=id,pixel_secret" })).body.error).toMatchObject({
      code: 100,
      message: expect.stringContaining("nonexisting field (pixel_secret)"),
    });
    const posted = await fetch(`${sandbox.url}/v24.0/${PIXEL}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(((await posted.json()) as any).error).toMatchObject({ code: 100, error_subcode: 33 });
  });

  it("meets faults as the events endpoint does: server errors, rate limits, timeouts", async () => {
    sandbox.setFault({ mode: "server-error", status: 503, count: 1 });
    expect(await read()).toMatchObject({ status: 503, body: { error: { code: 2, is_transient: true } } });
    sandbox.setFault({ mode: "rate-limit", count: 1 });
    expect((await read()).body.error).toMatchObject({ code: 17 });
    sandbox.setFault({ mode: "token-invalid", subcode: 463, count: 1 });
    expect((await read()).body.error).toMatchObject({ code: 190, error_subcode: 463 });
    sandbox.setFault({ mode: "timeout" });
    await expect(
      fetch(`${sandbox.url}/v24.0/${PIXEL}?fields=id`, {
        headers: { authorization: `Bearer ${TOKEN}` },
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow();
    sandbox.setFault({ mode: "none" });
    expect((await read()).status).toBe(200);
  });

  describe("with an app secret", () => {
    let strict: MetaSandbox;
    beforeAll(async () => {
      strict = await startMetaSandbox({ appSecret: "app-secret-1" });
    });
    afterAll(async () => strict.close());

    it("wants appsecret_proof in the query", async () => {
      expect((await read({ target: strict })).body.error).toMatchObject({
        code: 100,
        message: "API calls from the server require an appsecret_proof argument",
      });
      const proof = createHmac("sha256", "app-secret-1").update(TOKEN).digest("hex");
      expect((await read({ target: strict, query: `?fields=id,name&appsecret_proof=${proof}` })).status).toBe(200);
    });
  });
});

describe("faults", () => {
  it.each<[Fault, number, Record<string, unknown>]>([
    [{ mode: "server-error", count: 1 }, 500, { code: 2, is_transient: true }],
    [{ mode: "server-error", status: 502, count: 1 }, 502, { code: 2, is_transient: true }],
    [{ mode: "server-error", status: 503, code: 1, count: 1 }, 503, { code: 1, is_transient: true }],
    [{ mode: "token-invalid", count: 1 }, 400, { code: 190, error_subcode: 463, is_transient: false }],
    [{ mode: "token-invalid", subcode: 460, count: 1 }, 400, { code: 190, error_subcode: 460 }],
    [{ mode: "token-invalid", subcode: 467, count: 1 }, 400, { code: 190, error_subcode: 467 }],
    [{ mode: "rate-limit", count: 1 }, 400, { code: 17, is_transient: true }],
    ...([4, 32, 613, 80003] as const).map((code): [Fault, number, Record<string, unknown>] => [
      { mode: "rate-limit", code, count: 1 },
      400,
      { code, is_transient: true },
    ]),
  ])("%j answers %i in Meta's shape, then turns itself off", async (fault, status, error) => {
    sandbox.setFault(fault);
    const failed = await post({ data: [goodEvent()] });
    expect(failed.status).toBe(status);
    expect(failed.body.error).toMatchObject({
      type: "OAuthException",
      message: expect.any(String),
      fbtrace_id: expect.any(String),
      ...error,
    });
    expect((await post({ data: [goodEvent()] })).status).toBe(200);
    expect(sandbox.accepted()).toHaveLength(1);
  });

  it("counts down `count` requests; without a count it stays until replaced", async () => {
    sandbox.setFault({ mode: "server-error", count: 2 });
    expect((await post({ data: [goodEvent()] })).status).toBe(500);
    expect((await post({ data: [goodEvent()] })).status).toBe(500);
    expect((await post({ data: [goodEvent()] })).status).toBe(200);
    sandbox.setFault({ mode: "rate-limit", code: 4 });
    for (let i = 0; i < 3; i++) expect((await post({ data: [goodEvent()] })).body.error.code).toBe(4);
    sandbox.setFault({ mode: "none" });
    expect((await post({ data: [goodEvent()] })).status).toBe(200);
    expect(sandbox.requests()).toMatchObject({
      total: 7,
      accepted: 2,
      rejected: 5,
      rejectedByCode: { "2": 2, "4": 3 },
    });
  });

  it("reset: the connection is destroyed without an answer", async () => {
    sandbox.setFault({ mode: "reset", count: 1 });
    await expect(post({ data: [goodEvent()] })).rejects.toThrow();
    expect((await post({ data: [goodEvent()] })).status).toBe(200);
    expect(sandbox.requests()).toMatchObject({ total: 2, unanswered: 1, accepted: 1 });
  });

  it("timeout: the request is never answered, and close() still returns", async () => {
    const own = await startMetaSandbox({ now: () => clock });
    own.setFault({ mode: "timeout" });
    const started = Date.now();
    await expect(
      fetch(`${own.url}/v24.0/${PIXEL}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ data: [goodEvent()] }),
        signal: AbortSignal.timeout(300),
      }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const hung = post({ data: [goodEvent()] }, { target: own });
    await new Promise((r) => setTimeout(r, 50));
    await own.close();
    await expect(hung).rejects.toThrow();
    expect(own.requests()).toMatchObject({ total: 2, unanswered: 2, accepted: 0 });
  });

  it("latency: adds the delay, then answers normally", async () => {
    sandbox.setFault({ mode: "latency", ms: 200, count: 1 });
    let started = Date.now();
    expect((await post({ data: [goodEvent()] })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    started = Date.now();
    await post({ data: [goodEvent()] });
    expect(Date.now() - started).toBeLessThan(150);
  });

  it("latencyMs delays every answer, and a long delay does not hold close()", async () => {
    const slow = await startMetaSandbox({ now: () => clock, latencyMs: 150 });
    const started = Date.now();
    expect((await post({ data: [goodEvent()] }, { target: slow })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    slow.setFault({ mode: "latency", ms: 60_000 });
    const pending = post({ data: [goodEvent()] }, { target: slow });
    await new Promise((r) => setTimeout(r, 50));
    const closing = Date.now();
    await slow.close();
    expect(Date.now() - closing).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
  });

  it("refuses a malformed fault in-process", () => {
    expect(() => sandbox.setFault({ mode: "rate-limit", code: 5 } as unknown as Fault)).toThrow();
  });
});

describe("deduplication as Meta does it", () => {
  it("keeps the first of each (pixel, event_name, event_id)", async () => {
    await post({ data: [goodEvent("A"), goodEvent("A")] });
    await post({ data: [goodEvent("A"), goodEvent("B")] });
    await post({ data: [{ ...goodEvent("A"), event_name: "InitiateCheckout" }] });
    await post({ data: [goodEvent("A")] }, { pixel: "999" });
    expect(sandbox.accepted()).toHaveLength(6);
    expect(sandbox.accepted(PIXEL)).toHaveLength(5);
    expect(sandbox.unique(PIXEL).map((a) => `${a.event.event_name}:${a.event.event_id}`)).toEqual([
      "Purchase:A",
      "Purchase:B",
      "InitiateCheckout:A",
    ]);
    expect(sandbox.unique("999")).toHaveLength(1);
    expect(sandbox.unique()).toHaveLength(4);
  });

  it("keeps every event without an event_id", async () => {
    const anonymous = withEvent((e) => void delete e.event_id);
    await post({ data: [anonymous, anonymous] });
    expect(sandbox.unique()).toHaveLength(2);
  });

  it("only within 48 hours of the copy it kept", async () => {
    await post({ data: [goodEvent("A")] });
    clock += DEDUP_WINDOW_MS;
    await post({ data: [goodEvent("A")] });
    expect(sandbox.unique()).toHaveLength(1);
    clock += 1;
    await post({ data: [goodEvent("A")] });
    expect(sandbox.unique().map((a) => a.receivedAt)).toEqual([START, START + DEDUP_WINDOW_MS + 1]);
  });
});

describe("control over HTTP, for other processes", () => {
  it("reads events, unique events and counters", async () => {
    await post({ data: [goodEvent("A"), goodEvent("A")] });
    await post({ data: [goodEvent("B")] }, { pixel: "999" });
    expect((await control(`/__sandbox/events?pixel=${PIXEL}`)).body).toHaveLength(2);
    expect((await control("/__sandbox/events")).body).toHaveLength(3);
    expect((await control(`/__sandbox/unique?pixel=${PIXEL}`)).body).toMatchObject([
      { pixelId: PIXEL, event: { event_id: "A" }, receivedAt: START },
    ]);
    expect((await control("/__sandbox/stats")).body).toEqual({
      total: 2,
      accepted: 2,
      rejected: 0,
      unanswered: 0,
      eventsReceived: 3,
      rejectedByCode: {},
      unique: 2,
    });
  });

  it("denies tokens, marks pixels unknown and lists pixel reads", async () => {
    expect((await control("/__sandbox/deny", { token: TOKEN })).status).toBe(200);
    expect((await post({ data: [goodEvent()] })).body.error).toMatchObject({ code: 200 });
    expect((await control("/__sandbox/allow", { token: TOKEN })).status).toBe(200);
    expect((await control("/__sandbox/unknown-pixel", { pixel: "4440001" })).status).toBe(200);
    expect((await control("/__sandbox/unknown-pixel", { pixel: "not-a-pixel" })).status).toBe(400);
    await fetch(`${sandbox.url}/v24.0/4440001?fields=id`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect((await control("/__sandbox/reads")).body).toEqual([
      { pixelId: "4440001", status: 400, code: "100/33", tokenInQuery: false },
    ]);
  });

  it("sets faults, revokes and allows tokens, resets", async () => {
    expect((await control("/__sandbox/fault", { mode: "server-error", status: 503, count: 1 })).status).toBe(200);
    expect((await post({ data: [goodEvent()] })).status).toBe(503);
    expect((await control("/__sandbox/fault", { mode: "explode" })).status).toBe(400);

    expect((await control("/__sandbox/revoke", { token: TOKEN })).status).toBe(200);
    expect((await post({ data: [goodEvent()] })).body.error).toMatchObject({ code: 190, error_subcode: 460 });
    expect((await control("/__sandbox/allow", { token: TOKEN })).status).toBe(200);
    expect((await post({ data: [goodEvent()] })).status).toBe(200);
    expect((await control("/__sandbox/revoke", {})).status).toBe(400);

    expect((await control("/__sandbox/stats")).body).toMatchObject({
      total: 3,
      accepted: 1,
      rejected: 2,
      rejectedByCode: { "2": 1, "190/460": 1 },
    });
    expect((await control("/__sandbox/reset", {})).status).toBe(200);
    expect((await control("/__sandbox/stats")).body).toMatchObject({ total: 0, unique: 0 });
    expect(sandbox.accepted()).toHaveLength(0);
  });

  it("answers 404 for an unknown control endpoint", async () => {
    expect((await control("/__sandbox/nothing")).status).toBe(404);
  });
});

describe("checkEvent", () => {
  it("is pure: the same event passes or fails by the clock it is given", () => {
    const e = goodEvent();
    expect(checkEvent(e, clock)).toBeUndefined();
    expect(checkEvent(e, clock + 7 * DAY_S * 1000)).toMatchObject({ code: 100, subcode: 2804003 });
    expect(checkEvent(e, clock - 3600_000 - 61_000)).toMatchObject({ code: 100, subcode: 2804004 });
    expect(e).toEqual(goodEvent());
  });
});

describe("npm run meta-sandbox", () => {
  const root = path.resolve(__dirname, "../..");
  const tsx = path.join(root, "node_modules/tsx/dist/cli.mjs");

  it("prints the port it really listens on, serves, and exits 0 on SIGTERM", async () => {
    const child = spawn(
      process.execPath,
      [tsx, "sandbox/meta-graph/main.ts", "--port", "0", "--app-secret", "s3cret", "--unknown-pixel", "5550009999"],
      { cwd: root },
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      let out = "";
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d) => {
          out += String(d);
          if (out.includes("\n")) resolve(out);
        });
        void exited.then(() => reject(new Error(`exited before listening: ${out}`)));
      });
      expect(line).toMatch(/^Meta Graph API stand-in listening on http:\/\/127\.0\.0\.1:\d+\n$/);
      const url = line.trim().split(" ").pop()!;
      expect(url).not.toMatch(/:0$/);
      expect((await (await fetch(`${url}/__sandbox/stats`)).json()) as object).toMatchObject({ total: 0 });
      const answer = await fetch(`${url}/v24.0/${PIXEL}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ data: [goodEvent()] }),
      });
      expect(((await answer.json()) as any).error.message).toMatch(/appsecret_proof/);
      const proof = createHmac("sha256", "s3cret").update(TOKEN).digest("hex");
      const unknown = await fetch(`${url}/v24.0/5550009999?fields=id,name&appsecret_proof=${proof}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(((await unknown.json()) as any).error).toMatchObject({ code: 100, error_subcode: 33 });
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });

  it("exits 2 with a usage line on a bad argument", async () => {
    const child = spawn(process.execPath, [tsx, "sandbox/meta-graph/main.ts", "--port", "http"], { cwd: root });
    let err = "";
    child.stderr.on("data", (d) => (err += String(d)));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/--port/);
  });
});

describe("Facebook Login for Business (./login.ts)", () => {
  const APP = { appId: "4455667788", appSecret: "login-s3cret" };
  const REDIRECT = "https://capi-relay.example.com/auth/meta/callback";
  let login: MetaSandbox;
  beforeAll(async () => {
    login = await startMetaSandbox({ loginApp: APP, now: () => clock });
  });
  afterAll(async () => login.close());
  beforeEach(() => login.reset());

  const dialogQuery = (over: Record<string, string> = {}) =>
    new URLSearchParams({
      client_id: APP.appId,
      redirect_uri: REDIRECT,
      state: "state-123",
      config_id: "12345",
      response_type: "code",
      ...over,
    });

  /** The dialog's page, then the merchant's choice posted from it, as a browser would. */
  async function choose(decision: "continue" | "cancel", over: Record<string, string> = {}): Promise<URL> {
    const page = await fetch(`${login.url}/v26.0/dialog/oauth?${dialogQuery(over)}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('value="continue">Continue</button>');
    expect(html).toContain('value="cancel">Cancel</button>');
    const fields = Object.fromEntries([...html.matchAll(/name="(\w+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const decided = await fetch(`${login.url}/dialog/oauth/decide`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...fields, decision }).toString(),
      redirect: "manual",
    });
    expect(decided.status).toBe(302);
    return new URL(decided.headers.get("location")!);
  }

  async function exchange(code: string, over: Record<string, string> = {}) {
    const response = await fetch(`${login.url}/v26.0/oauth/access_token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: APP.appId,
        client_secret: APP.appSecret,
        redirect_uri: REDIRECT,
        code,
        ...over,
      }),
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  const get = async (path: string, token: string) => {
    const response = await fetch(`${login.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as any };
  };

  it("Continue: redirects with a code and the state; the code gives a token once, which lists, debugs and sends", async () => {
    const back = await choose("continue");
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get("state")).toBe("state-123");
    const code = back.searchParams.get("code")!;
    const first = await exchange(code);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ token_type: "bearer", expires_in: 60 * 86400 });
    const token = first.body.access_token as string;
    expect(login.issuedTokens().map((t) => t.token)).toEqual([token]);
    // Single use, as Meta's codes.
    expect((await exchange(code)).body.error.message).toMatch(/has been used/);

    const debug = await get(`/v26.0/debug_token?input_token=${token}`, `${APP.appId}|${APP.appSecret}`);
    expect(debug.body.data).toMatchObject({
      app_id: APP.appId,
      is_valid: true,
      expires_at: nowS() + 60 * 86400,
      data_access_expires_at: nowS() + 90 * 86400,
    });
    expect((await get(`/v26.0/debug_token?input_token=${token}`, "1|wrong")).body.error.code).toBe(190);
    expect(
      (await get(`/v26.0/debug_token?input_token=EAAunknown`, `${APP.appId}|${APP.appSecret}`)).body.data.is_valid,
    ).toBe(false);

    expect((await get("/v26.0/me/businesses?fields=id,name", token)).body.data).toEqual([
      { id: "900000000000001", name: "Stand-in Business" },
    ]);
    for (const edge of ["adspixels", "owned_pixels"])
      expect((await get(`/v26.0/900000000000001/${edge}?fields=id,name`, token)).body.data).toEqual([
        { id: "1234567890123", name: "Stand-in Store pixel" },
      ]);
    expect((await get("/v26.0/900000000000999/adspixels", token)).body.error).toMatchObject({
      code: 100,
      error_subcode: 33,
    });
    // The token works where a pasted one does: the connection check's read and the events endpoint.
    expect((await get("/v26.0/1234567890123?fields=id,name", token)).status).toBe(200);
    expect((await post({ data: [goodEvent()] }, { token, pixel: "1234567890123", target: login })).status).toBe(200);
  });

  it("Cancel: redirects with access_denied, user_denied and the state, and no code", async () => {
    const back = await choose("cancel");
    expect(Object.fromEntries(back.searchParams)).toMatchObject({
      error: "access_denied",
      error_reason: "user_denied",
      state: "state-123",
    });
    expect(back.searchParams.get("code")).toBeNull();
  });

  it("refuses a dialog for another app or without a login configuration", async () => {
    const refused: Array<Record<string, string>> = [
      { client_id: "999" },
      { config_id: "" },
      { response_type: "token" },
      { redirect_uri: "not a url" },
    ];
    for (const over of refused) {
      const page = await fetch(`${login.url}/v26.0/dialog/oauth?${dialogQuery(over)}`);
      expect(page.status).toBe(400);
      expect(await page.text()).toContain("Something went wrong");
    }
  });

  it("refuses an exchange with the wrong secret, another redirect URI, an unknown or an expired code", async () => {
    const code = (await choose("continue")).searchParams.get("code")!;
    expect((await exchange(code, { client_secret: "nope" })).body.error.message).toMatch(/client secret/);
    expect((await exchange(code, { redirect_uri: `${REDIRECT}/other` })).body.error.message).toMatch(/redirect_uri/);
    expect((await exchange("AQnotacode")).body.error.message).toMatch(/verification code/);
    const late = (await choose("continue")).searchParams.get("code")!;
    clock += 11 * 60_000;
    try {
      expect((await exchange(late)).body.error.message).toMatch(/expired/);
    } finally {
      clock = START;
    }
    // Refusals did not use the first code up.
    expect((await exchange(code)).status).toBe(200);
  });

  it("fails with the rest of the Graph API under a fault; the dialog (Facebook's site) does not", async () => {
    login.setFault({ mode: "server-error", status: 503, count: 2 });
    const back = await choose("continue");
    const refused = await exchange(back.searchParams.get("code")!);
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ code: 2, is_transient: true });
    expect((await get("/v26.0/me/businesses", "EAAany")).status).toBe(503);
    // The fault is spent and the code was not used by the refused exchange.
    expect((await exchange(back.searchParams.get("code")!)).status).toBe(200);
  });

  it("lists only for tokens it issued, and not once revoked; businesses can be set over HTTP", async () => {
    expect((await get("/v26.0/me/businesses", "EAAnotissued")).body.error.code).toBe(190);
    const token = (await exchange((await choose("continue")).searchParams.get("code")!)).body.access_token as string;
    const none = await fetch(`${login.url}/__sandbox/businesses`, { method: "POST", body: "[]" });
    expect(none.status).toBe(200);
    expect((await get("/v26.0/me/businesses", token)).body.data).toEqual([]);
    login.setBusinesses([{ id: "77", name: "Empty", pixels: [] }]);
    expect((await get("/v26.0/77/adspixels", token)).body.data).toEqual([]);
    expect((await fetch(`${login.url}/__sandbox/businesses`, { method: "POST", body: '[{"id":"x"}]' })).status).toBe(
      400,
    );
    login.revokeToken(token);
    expect((await get("/v26.0/me/businesses", token)).body.error).toMatchObject({ code: 190, error_subcode: 460 });
  });
});
