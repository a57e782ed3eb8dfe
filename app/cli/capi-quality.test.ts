// `capi quality` against the real PostgreSQL: the shop's own match-key coverage and Meta's last
// Dataset Quality numbers (read here from the stand-in, as the worker does), per pixel; another
// shop's are never shown.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import type { MetaEvent } from "../meta/event";
import { graphRequest } from "../meta/request";
import { readDueDatasetQuality } from "../pipeline/dataset-quality.server";
import { saveDestination } from "../pipeline/destinations.server";

const ROOT = path.resolve(__dirname, "../..");
const SHOP = "quality-cli.myshopify.com";
const OTHER = "quality-cli-other.myshopify.com";
const [PIXEL, OTHER_PIXEL] = ["5100000001", "5100000002"];
const TOKEN = "EAAquality-cli-0123456789";
const key = randomBytes(32);
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

let db: TestDatabase;
let meta: MetaSandbox;

function capi(args: string[]) {
  const result = spawnSync(
    process.execPath,
    [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "app/cli/capi.ts", ...args],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, NODE_ENV: "development", DATABASE_URL: db.url } },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function sent(shop: string, pixelId: string, destinationId: string, ids: Array<[string, boolean]>) {
  const events = ids.map(([id, withEmail]) => ({
    event_name: "Purchase",
    event_time: Math.floor(Date.now() / 1000) - 300,
    event_id: id,
    action_source: "website" as const,
    event_source_url: "https://shop.example.com/thank_you",
    user_data: { ...(withEmail ? { em: [sha(`${id}@example.com`)] } : {}), client_user_agent: "Mozilla/5.0" },
    custom_data: { value: 5, currency: "USD" },
  }));
  for (const event of events)
    await db.prisma.event.create({
      data: {
        shop,
        destinationId,
        pixelId,
        eventName: "Purchase",
        eventId: event.event_id,
        topic: "orders/create",
        state: "sent",
        payload: JSON.parse(JSON.stringify(event)),
        eventTime: new Date(event.event_time * 1000),
      },
    });
  const request = graphRequest({ pixelId, accessToken: TOKEN }, events as unknown as MetaEvent[], {
    graphUrl: meta.url,
  });
  expect((await fetch(request.url, { method: "POST", headers: request.headers, body: request.body })).status).toBe(200);
}

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox();
  const mine = await saveDestination(db.prisma, SHOP, { pixelId: PIXEL, accessToken: TOKEN, label: "Main" }, key);
  const theirs = await saveDestination(db.prisma, OTHER, { pixelId: OTHER_PIXEL, accessToken: TOKEN }, key);
  await sent(SHOP, PIXEL, mine, [
    ["c1", true],
    ["c2", true],
    ["c3", false],
    ["c4", true],
  ]);
  await sent(OTHER, OTHER_PIXEL, theirs, [["o1", false]]);
  expect(await readDueDatasetQuality({ prisma: db.prisma, meta: { graphUrl: meta.url }, vaultKey: key })).toBe(2);
});
afterAll(async () => {
  await meta?.close();
  await db?.drop();
});

describe("capi quality", () => {
  it("prints our coverage and Meta's numbers per pixel as JSON, for that shop only", () => {
    const { code, stdout, stderr } = capi(["quality", "--shop", SHOP, "--format", "json"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.shop).toBe(SHOP);
    expect(report.destinations).toHaveLength(1);
    const [d] = report.destinations;
    expect(d).toMatchObject({ name: "Main", pixelId: PIXEL, status: "read", message: null });
    const [purchase] = d.events;
    expect(purchase).toMatchObject({ eventName: "Purchase", ourEvents: 4 });
    // The stand-in's formula: em 2.5 and user agent 0.5 on three events, user agent alone on one.
    expect(purchase.score).toBe(Math.round(((3 * 3 + 0.5) / 4) * 10) / 10);
    const em = purchase.keys.find((k: { key: string }) => k.key === "em");
    expect(em).toMatchObject({ ours: 75, meta: 75 });
    expect(stdout).not.toContain(OTHER_PIXEL);
  });

  it("prints the same as text", () => {
    const { code, stdout } = capi(["quality", "--shop", SHOP]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Main (pixel ${PIXEL}): Meta's numbers read `);
    expect(stdout).toMatch(/Purchase: Event Match Quality \d\.\d\/10 \((Poor|OK|Good|Great)\); 4 of our events/);
    expect(stdout).toMatch(/Email\s+75%\s+75%/);
  });

  it("refuses a bad format or shop with a usage exit", () => {
    expect(capi(["quality", "--shop", SHOP, "--format", "csv"]).code).toBe(2);
    expect(capi(["quality", "--shop", "not a shop"]).code).toBe(2);
  });
});
