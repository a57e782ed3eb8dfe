// `capi connect` takes the token from a file or standard input (argv is readable by every user
// of the machine) and checks it with Meta (the project's stand-in) before saving it, `capi
// test-event` sends a test Purchase, and `capi rotate-key` re-seals every secret, against the
// real PostgreSQL.
import { soleDestination } from "../../test/support/destinations";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMetaSandbox, type MetaSandbox } from "../../sandbox/meta-graph/server";
import { createTestDatabase, freePort, type TestDatabase } from "../../test/support/services";
import { NO_TEST_EVENT_CODE_MESSAGE } from "../meta/test-event";
import { openDestination, saveDestination } from "../pipeline/destinations.server";
import { isSealedUnderCurrentKey, sealSecret } from "../security/token-vault";

const ROOT = path.resolve(__dirname, "../..");
const keyA = randomBytes(32);
const keyB = randomBytes(32);

let db: TestDatabase;
let meta: MetaSandbox;

/** Run without blocking: the Meta stand-in answers the CLI from this process meanwhile. */
function capi(
  args: string[],
  env: Record<string, string>,
  stdin = "",
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "app/cli/capi.ts", ...args],
    {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: "development", DATABASE_URL: db.url, META_GRAPH_URL: meta.url, ...env },
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  meta = await startMetaSandbox();
});
afterAll(async () => {
  await meta?.close();
  await db?.drop();
});

describe("capi connect", () => {
  const withKey = { ENCRYPTION_KEY: keyA.toString("hex") };
  const connect = (shop: string, tokenArgs: string[], stdin?: string) =>
    capi(["connect", "--shop", shop, "--pixel", "5000000001", ...tokenArgs], withKey, stdin);

  it.each<[string, (token: string) => { args: string[]; stdin?: string }, boolean]>([
    [
      "--token-file PATH",
      (token) => {
        const file = path.join(mkdtempSync(path.join(tmpdir(), "capi-token-")), "token.txt");
        writeFileSync(file, `${token}\n`, { mode: 0o600 });
        return { args: ["--token-file", file] };
      },
      false,
    ],
    ["--token - (standard input)", (token) => ({ args: ["--token", "-"], stdin: `${token}\n` }), false],
    ["--token T, with a warning", (token) => ({ args: ["--token", token] }), true],
  ])("takes the token from %s and never prints it", async (name, how, warns) => {
    const shop = `cli-${name.replace(/[^a-z]/g, "")}.myshopify.com`;
    const token = `EAAcli${randomBytes(8).toString("hex")}0123456789`;
    const { args, stdin } = how(token);
    const { code, stdout, stderr } = await connect(shop, args, stdin);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ shop, connected: true });
    expect(stdout + stderr).not.toContain(token);
    if (warns)
      expect(stderr).toMatch(
        /^warning: --token on the command line is visible to other users of this machine; use --token-file/,
      );
    else expect(stderr).toBe("");
    expect((await openDestination(db.prisma, await soleDestination(db.prisma, shop), keyA))!.accessToken).toBe(token);
  });

  it("refuses a missing token file, both options at once, or no token", async () => {
    for (const [args, message] of [
      [["--token-file", "/nonexistent/token"], /could not read --token-file/],
      [["--token-file", "/dev/null", "--token", "x"], /not both/],
      [[], /--token-file or --token is required/],
    ] as const) {
      const { code, stderr } = await connect("refused.myshopify.com", [...args]);
      expect(code).not.toBe(0);
      expect(stderr).toMatch(message);
    }
  });
});

describe("capi connect checks the pixel and token with Meta first", () => {
  const withKey = { ENCRYPTION_KEY: keyA.toString("hex") };
  const connectWith = (shop: string, pixel: string, token: string, env: Record<string, string> = {}) =>
    capi(["connect", "--shop", shop, "--pixel", pixel, "--token", "-"], { ...withKey, ...env }, `${token}\n`);
  const token = () => `EAAcheck${randomBytes(8).toString("hex")}0123456789`;

  it("reports a working setup as connected, with Meta's pixel", async () => {
    const t = token();
    const { code, stdout, stderr } = await connectWith("cli-check-ok.myshopify.com", "5100000001", t);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      shop: "cli-check-ok.myshopify.com",
      destinationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      pixelId: "5100000001",
      testEventCode: null,
      connected: true,
      check: "connected",
      paused: false,
      message: 'Connected: Meta accepts this access token for pixel "Stand-in pixel 5100000001" (5100000001).',
    });
  });

  it.each<[string, (t: string) => void, string, RegExp]>([
    [
      "a revoked token",
      (t) => meta.revokeToken(t),
      "5100000002",
      /^not saved: Meta does not accept this access token: the password .* Generate a new one/,
    ],
    [
      "a token without permission",
      (t) => meta.denyToken(t),
      "5100000003",
      /^not saved: This access token is not allowed to send events to pixel 5100000003/,
    ],
    [
      "an unknown pixel",
      () => meta.unknownPixel("5100000004"),
      "5100000004",
      /^not saved: Meta cannot find pixel \(dataset\) 5100000004/,
    ],
  ])(
    "%s: exits 1 with the admin page's sentence, saves nothing, never prints the token",
    async (name, refuse, pixel, message) => {
      const shop = `cli-refused-${name.replace(/[^a-z]/g, "")}.myshopify.com`;
      const t = token();
      refuse(t);
      const { code, stdout, stderr } = await connectWith(shop, pixel, t);
      expect(code).toBe(1);
      expect(stdout).toBe("");
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(message);
      expect(stdout + stderr).not.toContain(t);
      expect(await db.prisma.destination.findFirst({ where: { shop } })).toBeNull();
    },
  );

  it("Meta unreachable: saved, not connected, exits 4 and says it is not checked yet", async () => {
    const shop = "cli-unreachable.myshopify.com";
    const t = token();
    const { code, stdout, stderr } = await connectWith(shop, "5100000005", t, {
      META_GRAPH_URL: `http://127.0.0.1:${await freePort()}`,
    });
    expect(code).toBe(4);
    expect(JSON.parse(stdout)).toMatchObject({
      shop,
      connected: false,
      check: "unchecked",
      message: "The connection could not be checked: Meta could not be reached.",
    });
    expect(stderr).toMatch(
      /^saved, not checked yet: The connection could not be checked: Meta could not be reached\. Run capi connect again/,
    );
    expect(stdout + stderr).not.toContain(t);
    expect((await openDestination(db.prisma, await soleDestination(db.prisma, shop), keyA))!.accessToken).toBe(t);
  });
});

describe("capi test-event", () => {
  const withKey = { ENCRYPTION_KEY: keyA.toString("hex") };

  it("sends one test Purchase with the shop's test event code and prints Meta's answer", async () => {
    const shop = "cli-test-event.myshopify.com";
    await saveDestination(
      db.prisma,
      shop,
      { pixelId: "5200000001", accessToken: "EAAtestevent-0123456789abcdef", testEventCode: "TEST777" },
      keyA,
    );
    const { code, stdout, stderr } = await capi(["test-event", "--shop", shop], withKey);
    expect(code, stderr).toBe(0);
    const answer = JSON.parse(stdout);
    expect(answer).toMatchObject({
      shop,
      pixelId: "5200000001",
      testEventCode: "TEST777",
      eventsReceived: 1,
      fbtraceId: expect.any(String),
      seeIt: "Events Manager > your pixel > Test events (code TEST777)",
    });
    expect(answer.message).toContain(`fbtrace_id ${answer.fbtraceId}`);
    expect(stdout + stderr).not.toContain("EAAtestevent");
    expect(meta.accepted("5200000001")).toMatchObject([
      { testEventCode: "TEST777", event: { event_name: "Purchase", event_id: answer.eventId } },
    ]);
  });

  it("without a test event code exits 3, says how to set one, and sends nothing", async () => {
    const shop = "cli-test-event-none.myshopify.com";
    await saveDestination(
      db.prisma,
      shop,
      { pixelId: "5200000002", accessToken: "EAAtestevent-0123456789abcdef" },
      keyA,
    );
    const { code, stdout, stderr } = await capi(["test-event", "--shop", shop], withKey);
    expect(code).toBe(3);
    expect(stdout).toBe("");
    expect(stderr.trim()).toBe(`not sent: ${NO_TEST_EVENT_CODE_MESSAGE}`);
    expect(meta.accepted("5200000002")).toEqual([]);
  });

  it("exits 1 with Meta's refusal in plain words", async () => {
    const shop = "cli-test-event-revoked.myshopify.com";
    await saveDestination(
      db.prisma,
      shop,
      { pixelId: "5200000003", accessToken: "EAAtesteventrevoked-0123456789", testEventCode: "TEST777" },
      keyA,
    );
    meta.revokeToken("EAAtesteventrevoked-0123456789");
    const { code, stderr } = await capi(["test-event", "--shop", shop], withKey);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^failed: Meta refused the test event: Meta does not accept this access token/);
    expect(stderr).not.toContain("EAAtesteventrevoked");
  });
});

describe("capi rotate-key", () => {
  it("re-seals Meta and Shopify tokens under the new key, prints counts only, and is idempotent", async () => {
    await db.prisma.destination.deleteMany();
    await saveDestination(
      db.prisma,
      "rot-a.myshopify.com",
      { pixelId: "5000000002", accessToken: "EAArotatea-0123456789abcdef" },
      keyA,
    );
    await saveDestination(
      db.prisma,
      "rot-b.myshopify.com",
      { pixelId: "5000000003", accessToken: "EAArotateb-0123456789abcdef" },
      keyA,
    );
    await db.prisma.session.create({
      data: {
        id: "offline_rot-a.myshopify.com",
        shop: "rot-a.myshopify.com",
        state: "s",
        accessToken: "shpat_rotatetest0123456789",
      },
    });
    await db.prisma.session.create({
      data: {
        id: "offline_rot-b.myshopify.com",
        shop: "rot-b.myshopify.com",
        state: "s",
        accessToken: sealSecret(
          "shpat_rotatetestb0123456789",
          { purpose: "shopify-session", shop: "rot-b.myshopify.com" },
          keyA,
        ),
      },
    });
    const rotating = { ENCRYPTION_KEY: keyB.toString("base64"), ENCRYPTION_KEY_PREVIOUS: keyA.toString("hex") };

    const first = await capi(["rotate-key"], rotating);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout + first.stderr).not.toMatch(/EAArotate|shpat_|[0-9a-f]{64}/);
    expect(first.stdout).not.toContain(keyB.toString("base64"));
    expect(JSON.parse(first.stdout)).toMatchObject({
      destinations: { resealed: 2, current: 0, unreadable: 0 },
      sessions: { resealed: 2, current: 0, unreadable: 0 },
    });
    const second = await capi(["rotate-key"], rotating);
    expect(JSON.parse(second.stdout)).toMatchObject({
      destinations: { resealed: 0, current: 2 },
      sessions: { resealed: 0, current: 2 },
    });

    for (const row of await db.prisma.destination.findMany())
      expect(isSealedUnderCurrentKey(row.accessTokenEnc, keyB)).toBe(true);
    for (const row of await db.prisma.session.findMany())
      expect(isSealedUnderCurrentKey(row.accessToken, keyB)).toBe(true);
    expect(
      (await openDestination(db.prisma, await soleDestination(db.prisma, "rot-a.myshopify.com"), keyB))!.accessToken,
    ).toBe("EAArotatea-0123456789abcdef");

    // Without the previous key, what it sealed stays as it is and the command says so.
    await saveDestination(
      db.prisma,
      "rot-c.myshopify.com",
      { pixelId: "5000000004", accessToken: "EAArotatec-0123456789abcdef" },
      keyA,
    );
    const lost = await capi(["rotate-key"], { ENCRYPTION_KEY: keyB.toString("hex") });
    expect(lost.code).toBe(1);
    expect(JSON.parse(lost.stdout)).toMatchObject({ destinations: { unreadable: 1, current: 2 } });
    expect(lost.stderr).toMatch(/^1 value\(s\) open with neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS/);
  });
});
