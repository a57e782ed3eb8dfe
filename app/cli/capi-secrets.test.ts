// `capi connect` takes the token from a file or standard input (argv is readable by every user
// of the machine) and `capi rotate-key` re-seals every secret, against the real PostgreSQL.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../test/support/services";
import { openDestination, saveDestination } from "../pipeline/destinations.server";
import { isSealedUnderCurrentKey, sealSecret } from "../security/token-vault";

const ROOT = path.resolve(__dirname, "../..");
const keyA = randomBytes(32);
const keyB = randomBytes(32);

let db: TestDatabase;

function capi(args: string[], env: Record<string, string>, stdin = "") {
  const result = spawnSync(process.execPath, [path.join(ROOT, "node_modules/tsx/dist/cli.mjs"), "app/cli/capi.ts", ...args], {
    cwd: ROOT,
    input: stdin,
    encoding: "utf8",
    env: { ...process.env, NODE_ENV: "development", DATABASE_URL: db.url, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe("capi connect", () => {
  const withKey = { ENCRYPTION_KEY: keyA.toString("hex") };
  const connect = (shop: string, tokenArgs: string[], stdin?: string) => capi(["connect", "--shop", shop, "--pixel", "5000000001", ...tokenArgs], withKey, stdin);

  it.each<[string, (token: string) => { args: string[]; stdin?: string }, boolean]>([
    ["--token-file PATH", (token) => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), "capi-token-")), "token.txt");
      writeFileSync(file, `${token}\n`, { mode: 0o600 });
      return { args: ["--token-file", file] };
    }, false],
    ["--token - (standard input)", (token) => ({ args: ["--token", "-"], stdin: `${token}\n` }), false],
    ["--token T, with a warning", (token) => ({ args: ["--token", token] }), true],
  ])("takes the token from %s and never prints it", async (name, how, warns) => {
    const shop = `cli-${name.replace(/[^a-z]/g, "")}.myshopify.com`;
    const token = `EAAcli${randomBytes(8).toString("hex")}0123456789`;
    const { args, stdin } = how(token);
    const { code, stdout, stderr } = connect(shop, args, stdin);
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ shop, connected: true });
    expect(stdout + stderr).not.toContain(token);
    if (warns) expect(stderr).toMatch(/^warning: --token on the command line is visible to other users of this machine; use --token-file/);
    else expect(stderr).toBe("");
    expect((await openDestination(db.prisma, shop, keyA))!.accessToken).toBe(token);
  });

  it("refuses a missing token file, both options at once, or no token", () => {
    for (const [args, message] of [
      [["--token-file", "/nonexistent/token"], /could not read --token-file/],
      [["--token-file", "/dev/null", "--token", "x"], /not both/],
      [[], /--token-file or --token is required/],
    ] as const) {
      const { code, stderr } = connect("refused.myshopify.com", [...args]);
      expect(code).not.toBe(0);
      expect(stderr).toMatch(message);
    }
  });
});

describe("capi rotate-key", () => {
  it("re-seals Meta and Shopify tokens under the new key, prints counts only, and is idempotent", async () => {
    await db.prisma.destination.deleteMany();
    await saveDestination(db.prisma, "rot-a.myshopify.com", { pixelId: "5000000002", accessToken: "EAArotatea-0123456789abcdef" }, keyA);
    await saveDestination(db.prisma, "rot-b.myshopify.com", { pixelId: "5000000003", accessToken: "EAArotateb-0123456789abcdef" }, keyA);
    await db.prisma.session.create({ data: { id: "offline_rot-a.myshopify.com", shop: "rot-a.myshopify.com", state: "s", accessToken: "shpat_rotatetest0123456789" } });
    await db.prisma.session.create({
      data: { id: "offline_rot-b.myshopify.com", shop: "rot-b.myshopify.com", state: "s", accessToken: sealSecret("shpat_rotatetestb0123456789", { purpose: "shopify-session", shop: "rot-b.myshopify.com" }, keyA) },
    });
    const rotating = { ENCRYPTION_KEY: keyB.toString("base64"), ENCRYPTION_KEY_PREVIOUS: keyA.toString("hex") };

    const first = capi(["rotate-key"], rotating);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout + first.stderr).not.toMatch(/EAArotate|shpat_|[0-9a-f]{64}/);
    expect(first.stdout).not.toContain(keyB.toString("base64"));
    expect(JSON.parse(first.stdout)).toMatchObject({
      destinations: { resealed: 2, current: 0, unreadable: 0 },
      sessions: { resealed: 2, current: 0, unreadable: 0 },
    });
    const second = capi(["rotate-key"], rotating);
    expect(JSON.parse(second.stdout)).toMatchObject({ destinations: { resealed: 0, current: 2 }, sessions: { resealed: 0, current: 2 } });

    for (const row of await db.prisma.destination.findMany()) expect(isSealedUnderCurrentKey(row.accessTokenEnc, keyB)).toBe(true);
    for (const row of await db.prisma.session.findMany()) expect(isSealedUnderCurrentKey(row.accessToken, keyB)).toBe(true);
    expect((await openDestination(db.prisma, "rot-a.myshopify.com", keyB))!.accessToken).toBe("EAArotatea-0123456789abcdef");

    // Without the previous key, what it sealed stays as it is and the command says so.
    await saveDestination(db.prisma, "rot-c.myshopify.com", { pixelId: "5000000004", accessToken: "EAArotatec-0123456789abcdef" }, keyA);
    const lost = capi(["rotate-key"], { ENCRYPTION_KEY: keyB.toString("hex") });
    expect(lost.code).toBe(1);
    expect(JSON.parse(lost.stdout)).toMatchObject({ destinations: { unreadable: 1, current: 2 } });
    expect(lost.stderr).toMatch(/^1 value\(s\) open with neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS/);
  });
});
