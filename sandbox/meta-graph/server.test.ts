import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "./server";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const NOW = 1_795_262_400_000;
let sandbox: MetaSandbox;

const good = (over: Record<string, unknown> = {}, ud: Record<string, unknown> = {}) => ({
  event_name: "Purchase",
  event_time: NOW / 1000 - 3600,
  event_id: "5678901234567",
  action_source: "website",
  event_source_url: "https://shop.example.com/orders/1",
  user_data: { em: sha("jane@example.com"), client_user_agent: "Mozilla/5.0", client_ip_address: "203.0.113.7", fbc: "fb.1.1795258800000.IwAR2F4", fbp: "fb.1.1795258800000.1234567890", ...ud },
  custom_data: { value: 10, currency: "USD" },
  ...over,
});

async function post(body: unknown, options: { token?: string | null; pixel?: string; form?: boolean; query?: string } = {}) {
  const headers: Record<string, string> = { "content-type": options.form ? "application/x-www-form-urlencoded" : "application/json" };
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? "EAAtoken"}`;
  const payload = options.form
    ? new URLSearchParams(Object.entries(body as Record<string, unknown>).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])).toString()
    : JSON.stringify(body);
  const response = await fetch(`${sandbox.url}/v26.0/${options.pixel ?? "1234567890"}/events${options.query ?? ""}`, { method: "POST", headers, body: payload });
  return { status: response.status, body: (await response.json()) as any };
}

beforeAll(async () => {
  sandbox = await startMetaSandbox({ now: () => NOW });
});
afterAll(async () => sandbox.close());
beforeEach(() => sandbox.reset());

describe("Meta Graph API stand-in", () => {
  it("accepts a well-formed request and answers in Meta's shape", async () => {
    const { status, body } = await post({ data: [good()], test_event_code: "TEST1" });
    expect(status).toBe(200);
    expect(body).toEqual({ events_received: 1, messages: [], fbtrace_id: expect.any(String) });
    expect(sandbox.accepted("1234567890")).toMatchObject([{ testEventCode: "TEST1", event: { event_id: "5678901234567" } }]);
  });

  it.each([
    ["event older than 7 days", good({ event_time: NOW / 1000 - 8 * 86400 }), 100, 2804003],
    ["store event older than 62 days", good({ action_source: "physical_store", event_time: NOW / 1000 - 63 * 86400 }), 100, 2804003],
    ["event in the future", good({ event_time: NOW / 1000 + 600 }), 100, 2804004],
    ["unhashed email", good({}, { em: "jane@example.com" }), 100, 2804016],
    ["unhashed phone in an array", good({}, { ph: [sha("1"), "+14155550132"] }), 100, 2804016],
    ["malformed fbc", good({}, { fbc: "IwAR2F4" }), 100, 2804001],
    ["website without user agent", good({}, { client_user_agent: undefined }), 100, 2804050],
    ["website without URL", good({ event_source_url: undefined }), 100, 2804050],
    ["unknown action_source", good({ action_source: "web" }), 100, 2804050],
    ["no event_name", good({ event_name: "" }), 100, 2804050],
    ["event_time as a string", good({ event_time: "yesterday" }), 100, 2804050],
    ["no customer information", good({ action_source: "system_generated", user_data: {} }), 100, 2804050],
    ["Purchase without currency", good({ custom_data: { value: 1 } }), 100, 2804019],
    ["bad IP", good({}, { client_ip_address: "999.0.0.1" }), 100, 2804050],
  ])("rejects the whole request for one event with %s", async (_name, bad, code, subcode) => {
    const { status, body } = await post({ data: [good({ event_id: "ok-1" }), bad] });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code, error_subcode: subcode, type: "OAuthException", fbtrace_id: expect.any(String) });
    expect(body.error.error_user_msg).toMatch(/index 1/);
    expect(sandbox.accepted()).toHaveLength(0);
  });

  it.each([
    ["empty data", { data: [] }],
    ["no data", {}],
    ["1,001 events", { data: Array.from({ length: 1001 }, (_, i) => good({ event_id: String(i) })) }],
  ])("rejects %s with code 100", async (_name, body) => {
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe(100);
  });

  it("accepts 1,000 events and Meta's appendix on hashes", async () => {
    const data = Array.from({ length: 1000 }, (_, i) => good({ event_id: String(i) }, { em: `${sha("a@b.co")}.AQYBAQIA` }));
    expect((await post({ data })).body.events_received).toBe(1000);
  });

  it("takes the token from the header, the body or the query; refuses none or a revoked one with 190", async () => {
    expect((await post({ data: [good()], access_token: "EAAbody" }, { token: null })).status).toBe(200);
    expect((await post({ data: [good()] }, { token: null, query: "?access_token=EAAquery" })).status).toBe(200);
    expect((await post({ data: [good()] }, { token: null })).body.error.code).toBe(190);
    sandbox.revokeToken("EAAtoken");
    expect((await post({ data: [good()] })).body.error).toMatchObject({ code: 190, error_subcode: 460 });
    sandbox.allowToken("EAAtoken");
    expect((await post({ data: [good()] })).status).toBe(200);
  });

  it("takes form-encoded bodies with data as a JSON string", async () => {
    expect((await post({ data: [good()] }, { form: true })).status).toBe(200);
  });

  it("deduplicates as Meta does: one event per pixel, event_name and event_id", async () => {
    await post({ data: [good(), good()] });
    await post({ data: [good()] });
    await post({ data: [good({ event_name: "InitiateCheckout" })] });
    await post({ data: [good()] }, { pixel: "999" });
    expect(sandbox.accepted()).toHaveLength(5);
    expect(sandbox.unique("1234567890")).toHaveLength(2);
    expect(sandbox.unique()).toHaveLength(3);
  });

  it.each([
    [{ mode: "server-error", count: 1 } as const, 500, 2],
    [{ mode: "server-error", status: 503, count: 1 } as const, 503, 2],
    [{ mode: "token-invalid", subcode: 463, count: 1 } as const, 400, 190],
    [{ mode: "rate-limit", code: 613, count: 1 } as const, 400, 613],
  ])("fault %j answers %i with code %i, then recovers", async (fault, status, code) => {
    sandbox.setFault(fault);
    const failed = await post({ data: [good()] });
    expect(failed.status).toBe(status);
    expect(failed.body.error.code).toBe(code);
    expect((await post({ data: [good()] })).status).toBe(200);
  });

  it("can reset the connection, hang, or answer slowly", async () => {
    sandbox.setFault({ mode: "reset", count: 1 });
    await expect(post({ data: [good()] })).rejects.toThrow();
    sandbox.setFault({ mode: "timeout", count: 1 });
    await expect(
      fetch(`${sandbox.url}/v26.0/1/events`, { method: "POST", headers: { authorization: "Bearer t" }, body: JSON.stringify({ data: [good()] }), signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow();
    sandbox.setFault({ mode: "latency", ms: 150, count: 1 });
    const started = Date.now();
    expect((await post({ data: [good()] })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("checks appsecret_proof when it knows the app secret", async () => {
    const strict = await startMetaSandbox({ now: () => NOW, appSecret: "shh" });
    try {
      const send = (proof?: string) =>
        fetch(`${strict.url}/v26.0/1/events`, { method: "POST", headers: { authorization: "Bearer tok", "content-type": "application/json" }, body: JSON.stringify({ data: [good()], appsecret_proof: proof }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
      expect((await send("wrong")).body.error.message).toMatch(/appsecret_proof/);
      expect((await send(createHmac("sha256", "shh").update("tok").digest("hex"))).status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it("is driven over HTTP by other processes", async () => {
    await fetch(`${sandbox.url}/__sandbox/fault`, { method: "POST", body: JSON.stringify({ mode: "server-error", count: 1 }) });
    expect((await post({ data: [good()] })).status).toBe(500);
    await post({ data: [good()] });
    const stats = await (await fetch(`${sandbox.url}/__sandbox/stats`)).json();
    expect(stats).toMatchObject({ requests: 2, accepted: 1, rejected: 1, eventsReceived: 1, unique: 1 });
    expect(await (await fetch(`${sandbox.url}/__sandbox/unique?pixel=1234567890`)).json()).toHaveLength(1);
  });
});

describe("npm run meta-sandbox", () => {
  it("prints where it listens and serves", async () => {
    const root = path.resolve(__dirname, "../..");
    const child = spawn(process.execPath, [path.join(root, "node_modules/tsx/dist/cli.mjs"), "sandbox/meta-graph/main.ts", "--port", "0"], { cwd: root });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d) => resolve(String(d)));
        child.on("exit", () => reject(new Error("exited")));
      });
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1]!;
      expect((await (await fetch(`${url}/__sandbox/stats`)).json()).requests).toBe(0);
    } finally {
      child.kill("SIGTERM");
    }
  });
});
