// `npm run demo` end to end, as a developer runs it: its own process, this machine's Redis, an
// embedded database in a folder of its own. A small day is posted, the summary must account for
// every webhook from the database and the Meta stand-in, the dashboard must show the same
// numbers without any personal data, and Ctrl-C must stop it cleanly. Without Redis it must say
// so at once; the dashboard must not exist outside the demo.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Ledger, RunFacts } from "../app/demo/ledger";
import { freePort, REDIS_URL, uniquePrefix } from "../test/support/services";

const ROOT = path.resolve(__dirname, "..");
const work = mkdtempSync(path.join(tmpdir(), "capi-demo-test-"));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) signal(child, "SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  try {
    // Anything the script started goes with it.
    if (child.pid && child.exitCode === null) process.kill(-child.pid, sig);
  } catch {
    // already gone
  }
}

interface Running {
  child: ChildProcess;
  output: () => string;
  errors: () => string;
  exited: Promise<number | null>;
  waitFor(text: string | RegExp, timeoutMs: number): Promise<void>;
}

function run(script: string, args: string[], env: Record<string, string | undefined>): Running {
  // Node with tsx's loader, not tsx's CLI: the CLI relays signals through a parent process that
  // SIGKILLs a child which does not acknowledge one within 60 ms (a loaded machine, PGlite busy).
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  children.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    output: () => out,
    errors: () => err,
    exited,
    async waitFor(text, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      const seen = () => (typeof text === "string" ? out.includes(text) : text.test(out));
      while (!seen()) {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before "${text}":\n${out}\n${err}`);
        if (Date.now() > deadline) throw new Error(`no "${text}" within ${timeoutMs} ms:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

describe("npm run demo", () => {
  it("posts a day, accounts for every webhook, serves the same numbers, and stops on Ctrl-C", async () => {
    const dataDir = path.join(work, "data");
    const jsonFile = path.join(work, "summary.json");
    const demo = run("demo/main.ts", ["--orders", "60", "--port", "0", "--data-dir", dataDir, "--json", jsonFile], {
      REDIS_URL,
    });
    // The first run on a machine (or after a change under app/) builds the app first.
    await demo.waitFor("press Ctrl-C to stop", 150_000);

    const out = demo.output();
    expect(out).toMatch(/posted \d+\/\d+ · delivered to Meta \d+ · waiting \d+/);
    expect(out).toContain("Every webhook is accounted for.");
    const summary = JSON.parse(readFileSync(jsonFile, "utf8")) as {
      ledger: Ledger;
      run: RunFacts;
      problems: string[];
      day: Record<string, number>;
    };
    const { ledger: l, run: facts } = summary;
    expect(summary.problems).toEqual([]);
    const posted = Object.values(summary.day).reduce((a, b) => a + b, 0);
    expect(l.received).toBe(posted);
    expect(facts.failed).toBe(0);
    expect(l.duplicates! + l.heldBack + l.notDelivered + l.delivered).toBe(l.received);
    expect(l.waiting).toBe(0);
    expect(l.redeliveries).toBe(summary.day.redelivery);
    expect(l.sameConversion).toBeGreaterThan(0);
    expect(l.delivered).toBe(facts.meta.kept);
    expect(l.delivered).toBeGreaterThan(100);
    expect(l.metaRequests).toBeGreaterThanOrEqual(1);
    expect(l.metaRequests).toBeLessThan(l.delivered);
    expect(l.heldBackReasons.map((r) => r.label).sort()).toEqual([
      "Shopify test order, and the shop has no test event code",
      "the buyer declined marketing tracking",
    ]);
    // A checkout without a browser is sent (with a note), not invalid: only the late import is not delivered.
    expect(l.notDeliveredReasons.map((r) => r.label).sort()).toEqual(["event_too_old"]);
    expect(l.latencyMs!.p99).toBeLessThan(5_000);
    // The printed table carries the same figures.
    expect(out).toMatch(new RegExp(`Webhooks received\\s+${l.received!.toLocaleString("en-US")}\\b`));
    expect(out).toMatch(new RegExp(`Delivered to Meta\\s+${l.delivered.toLocaleString("en-US")}\\b`));
    expect(out).toMatch(/event_too_old\s+1\s+Expired: the conversion happened 9 days ago/);
    expect(existsSync(path.join(dataDir, ".capi-demo"))).toBe(true);
    expect(existsSync(path.join(dataDir, "pglite"))).toBe(true);

    const url = /Dashboard with the same numbers: (http:\/\/\S+)/.exec(out)![1]!;
    const response = await fetch(url);
    expect(response.status).toBe(200);
    const html = await response.text();
    for (const row of [
      "Webhooks received",
      "Shopify redeliveries",
      "Held back",
      "Not delivered",
      "Delivered to Meta",
      "Meta requests used",
    ])
      expect(html).toContain(row);
    expect(html).toContain(`>${l.received!.toLocaleString("en-US")}<`);
    expect(html).toContain(`>${l.delivered.toLocaleString("en-US")}<`);
    expect(html).toContain("the conversion happened 9 days ago");
    // The admin page's delivery card counts the same held-back webhooks, from their receipts.
    expect(html).toContain("Held back (not sent)");
    // No access token, and no personal data: no email address, no buyer IP, no hashed payload.
    expect(html).not.toContain("EAA-demo-token");
    expect(html).not.toMatch(/[\w.+-]+@[\w-]+\.[a-z]{2,}/i);
    expect(html).not.toContain("198.51.100.");
    expect(html).not.toMatch(/[0-9a-f]{64}/);

    signal(demo.child, "SIGINT");
    expect(await demo.exited).toBe(0);
    expect(demo.output()).toContain("Stopped.");
  }, 180_000);

  it("says Redis is not running, and how to start it, at once", async () => {
    const port = await freePort();
    const started = Date.now();
    const demo = run("demo/main.ts", ["--exit", "--data-dir", path.join(work, "no-redis")], {
      REDIS_URL: `redis://127.0.0.1:${port}`,
    });
    expect(await demo.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(demo.errors()).toContain(`Redis is not running: nothing answers at redis://127.0.0.1:${port} (REDIS_URL).`);
    expect(demo.errors()).toContain(`redis-server --port ${port} --daemonize yes`);
    expect(existsSync(path.join(work, "no-redis"))).toBe(false);
  });

  it("never wipes a folder it did not create", async () => {
    const mine = path.join(work, "someone-elses");
    mkdirSync(mine);
    writeFileSync(path.join(mine, "notes.txt"), "keep me");
    const demo = run("demo/main.ts", ["--exit", "--data-dir", mine], { REDIS_URL });
    expect(await demo.exited).toBe(1);
    expect(demo.errors()).toContain("is not a demo folder");
    expect(readFileSync(path.join(mine, "notes.txt"), "utf8")).toBe("keep me");
  });

  it("has no dashboard outside the demo", async () => {
    const port = await freePort();
    const app = run("server/main.ts", [], {
      NODE_ENV: "development",
      PORT: String(port),
      DATA_DIR: path.join(work, "app-data"),
      DATABASE_URL: undefined,
      CAPI_DEMO_SHOP: undefined,
      REDIS_URL,
      QUEUE_PREFIX: uniquePrefix(),
    });
    await app.waitFor("listening on", 60_000);
    const response = await fetch(`http://127.0.0.1:${port}/demo`);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain("Webhooks received");
    signal(app.child, "SIGTERM");
    await app.exited;
  }, 90_000);
});
