// The browser tests drive Debian's Chromium through playwright-core, never a browser that npm
// or Playwright downloads. A developer without it gets those tests skipped, with a line saying
// which and how to install it; CI (CI=true) must run them, so there a missing browser fails.
import { existsSync } from "node:fs";
import type { LaunchOptions, Page } from "playwright-core";
import { machineClockEnv } from "./machine-clock";

/** CHROMIUM_PATH points elsewhere (another install, or a missing one to try the skip). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export const chromiumLaunchOptions: LaunchOptions = {
  executablePath: CHROMIUM_PATH,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  // Chromium crashes under libfaketime (.ci/clock-ahead), and a real browser has its own clock.
  env: machineClockEnv(),
};

export function browserMissingMessage(tests: string): string {
  return (
    `${tests}: not run, there is no Chromium at ${CHROMIUM_PATH}. ` +
    `Install Debian's (apt-get install chromium) or set CHROMIUM_PATH; never npx playwright install.`
  );
}

/**
 * Whether the browser tests named can run: false (and a line saying so) when the browser is
 * missing; under CI=true a missing browser throws, which fails the test file.
 */
export function canRunBrowserTests(tests: string): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const message = browserMissingMessage(tests);
  if (process.env.CI === "true") throw new Error(`${message} CI runs every browser test.`);
  console.warn(`SKIPPED ${message}`);
  return false;
}

/**
 * The stand-in App Bridge: what the page asked of it, in `window.__appBridge`; and, as App
 * Bridge does, the session token on the page's own fetches (client navigation's data requests).
 */
export const fakeAppBridge = (token: string) => `
  window.__appBridge = { toasts: [], saveBar: [] };
  const pageFetch = window.fetch;
  window.fetch = (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    if (url.origin !== location.origin) return pageFetch(input, init);
    const headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
    headers.set("Authorization", "Bearer " + ${JSON.stringify(token)});
    return pageFetch(input, { ...init, headers });
  };
  window.shopify = {
    toast: { show: (message, options) => window.__appBridge.toasts.push({ message, isError: Boolean(options && options.isError) }) },
    saveBar: { show: (id) => { window.__appBridge.saveBar.push("show " + id); }, hide: (id) => { window.__appBridge.saveBar.push("hide " + id); } },
  };
`;

/**
 * A full-page screenshot at `file` with `state` written at the page's foot: a storefront
 * embed shows nothing of its own, so what it did is put where the picture shows it.
 */
export async function screenshotWith(page: Page, file: string, state: unknown): Promise<void> {
  await page.evaluate(
    (text) => {
      const pre = document.createElement("pre");
      pre.style.cssText = "background:#f4f4f4;padding:12px;font-size:12px;white-space:pre-wrap";
      pre.textContent = text;
      document.body.appendChild(pre);
    },
    JSON.stringify(state, null, 2),
  );
  await page.screenshot({ path: file, fullPage: true });
}
