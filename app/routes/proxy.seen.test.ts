// POST /proxy/seen: the theme embed's report, through Shopify's app proxy, that another Meta
// pixel runs one of the shop's pixel ids. Requests signed as Shopify signs app proxy requests.
import { createHmac, randomBytes } from "node:crypto";
import type { ActionFunctionArgs } from "@remix-run/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, REDIS_URL, uniquePrefix, type TestDatabase } from "../../test/support/services";

const SECRET = "test-proxy-secret";
const SHOP = "seen.myshopify.com";
const OURS = "123456789012345";
type Action = (args: ActionFunctionArgs) => Promise<Response>;
let db: TestDatabase;
let action: Action;

/** The URL Shopify's app proxy forwards: the storefront's query plus shop, timestamp and signature. */
function proxied(query: Record<string, string>, secret = SECRET): string {
  const params: Record<string, string> = {
    logged_in_customer_id: "",
    path_prefix: "/apps/capi-relay",
    timestamp: String(Math.floor(Date.now() / 1000)),
    ...query,
  };
  const message = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join("");
  const signature = createHmac("sha256", secret).update(message).digest("hex");
  return `https://app.example.com/proxy/seen?${new URLSearchParams({ ...params, signature })}`;
}

async function post(url: string): Promise<Response> {
  try {
    return await action({ request: new Request(url, { method: "POST" }), params: {}, context: {} });
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  Object.assign(process.env, {
    SHOPIFY_API_SECRET: SECRET,
    SHOPIFY_API_KEY: "test-key",
    DATABASE_URL: db.url,
    REDIS_URL,
    QUEUE_PREFIX: uniquePrefix(),
    NODE_ENV: "test",
    ENCRYPTION_KEY: randomBytes(32).toString("hex"),
  });
  action = (await import("./proxy.seen")).action;
  const { handleInstalled } = await import("../pipeline/privacy.server");
  await handleInstalled(db.prisma, SHOP);
  await db.prisma.destination.create({
    data: { id: crypto.randomUUID(), shop: SHOP, pixelId: OURS, accessTokenEnc: "v2.sealed", tokenFingerprint: "f" },
  });
});
afterAll(async () => {
  const { closeProcessClients } = await import("../process-clients.server");
  await closeProcessClients();
  await db?.drop();
});

describe("POST /proxy/seen", () => {
  it("records a sighting of the shop's own pixel, signed by Shopify, and the Overview lists it", async () => {
    expect((await post(proxied({ shop: SHOP, id: OURS }))).status).toBe(204);
    // Again (many page views): still one row.
    expect((await post(proxied({ shop: SHOP, id: OURS }))).status).toBe(204);
    expect(await db.prisma.pixelSighting.findMany({ select: { shop: true, pixelId: true } })).toEqual([
      { shop: SHOP, pixelId: OURS },
    ]);
    const { loadPixelSightings } = await import("../pipeline/pixel-sightings.server");
    expect((await loadPixelSightings(db.prisma, SHOP, new Date())).map((s) => s.pixelId)).toEqual([OURS]);
    // A week later, with no new sighting, the warning is gone.
    expect(await loadPixelSightings(db.prisma, SHOP, new Date(Date.now() + 8 * 86_400_000))).toEqual([]);
  });

  it("refuses an unsigned or wrongly signed request, another pixel id, and an odd id", async () => {
    const unsigned = new URL(proxied({ shop: SHOP, id: OURS }));
    unsigned.searchParams.delete("signature");
    const cases: Array<[string, string, number]> = [
      ["no signature", unsigned.toString(), 400],
      ["signed with another secret", proxied({ shop: SHOP, id: OURS }, "another-secret"), 400],
      ["a pixel id not the shop's", proxied({ shop: SHOP, id: "999999999999" }), 404],
      ["not a pixel id", proxied({ shop: SHOP, id: "x" }), 400],
      ["a shop that never installed", proxied({ shop: "seen-never.myshopify.com", id: OURS }), 404],
    ];
    for (const [name, url, status] of cases) expect((await post(url)).status, name).toBe(status);
    expect(await db.prisma.pixelSighting.count({ where: { NOT: { shop: SHOP, pixelId: OURS } } })).toBe(0);
  });
});
