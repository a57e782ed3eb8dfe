// CAPI Relay web pixel: the browser half of InitiateCheckout and Purchase, with the same
// event ids as the server events, so Meta keeps one of each (see src/mapping.js).
//
// App pixels run in Shopify's strict sandbox: a web worker with no DOM, so Meta's fbevents.js
// (which needs `document`) cannot run here. `fbq` below keeps fbq's call signature and sends
// each call to Meta's pixel endpoint (facebook.com/tr) the way the pixel's image fallback
// does: pixel id, event name, eventID as `eid`, custom data as `cd[...]`, the first-party
// `_fbp` / `_fbc` cookies, the hashed email and phone as `ud[...]`, and Limited Data Use.
// Shopify loads the pixel only with the consent declared in shopify.extension.toml
// ([customer_privacy]); a withdrawal later on the page stops it here.
import { register } from "@shopify/web-pixels-extension";
import { hashedMatch } from "./advanced-matching.js";
import {
  SENT_KEY,
  addToCartCall,
  initiateCheckoutCall,
  firedReport,
  parseSent,
  pixelRules,
  pixelConsent,
  pixelRequest,
  purchaseCall,
  recordSent,
  sentKey,
} from "./mapping.js";

register(({ analytics, browser, settings, init, customerPrivacy }) => {
  // The shop's pixels and rules, as the app wrote them: each pixel gets the events the server
  // sends it, with the server's event ids, value and contents.
  const rules = pixelRules(settings);
  if (rules.pixelIds.length === 0) return;

  let consent = pixelConsent(init?.customerPrivacy);
  try {
    customerPrivacy?.subscribe?.("visitorConsentCollected", (event) => {
      consent = pixelConsent(event?.customerPrivacy);
    });
  } catch {
    // Without updates the consent at page load stands.
  }

  const attempt = (fn) =>
    Promise.resolve()
      .then(fn)
      .catch(() => undefined);
  const cookie = (name) =>
    attempt(() => browser.cookie.get(name)).then((value) =>
      typeof value === "string" && value !== "" ? value : undefined,
    );

  // Keys claimed in this worker, so that two deliveries of one event racing each other to the
  // storage still send once.
  const claimed = new Set();

  /** True when this browser has not sent the event yet, and records it as sent. */
  async function claim(call) {
    const key = sentKey(call);
    if (claimed.has(key)) return false;
    claimed.add(key);
    const list = parseSent(await attempt(() => browser.localStorage.getItem(SENT_KEY)));
    if (list.includes(key)) return false;
    await attempt(() => browser.localStorage.setItem(SENT_KEY, JSON.stringify(recordSent(list, key))));
    return true;
  }

  /** fbq("track", name, params, { eventID }), for one Shopify customer event. */
  async function fbq(command, eventName, params, options, event, pixelIds) {
    if (command !== "track" || !consent.send || pixelIds.length === 0) return;
    const call = [command, eventName, params, options];
    try {
      if (!(await claim(call))) return;
      const [fbp, fbc, userData] = await Promise.all([
        cookie("_fbp"),
        cookie("_fbc"),
        attempt(() => hashedMatch(event?.data?.checkout)),
      ]);
      const doc = event?.context?.document;
      const context = {
        href: doc?.location?.href,
        referrer: doc?.referrer,
        timestampMs: Date.parse(event?.timestamp) || Date.now(),
        fbp,
        fbc,
        userData,
        ldu: consent.ldu,
      };
      await Promise.all(
        pixelIds.map((pixelId) => {
          const request = pixelRequest(pixelId, call, context);
          return fetch(request.url, {
            method: request.method,
            mode: "no-cors",
            credentials: "include",
            keepalive: true,
            ...(request.body
              ? { body: request.body, headers: { "Content-Type": "application/x-www-form-urlencoded" } }
              : {}),
          });
        }),
      );
      await reportFired(call);
    } catch {
      // A lost browser event is covered by the server event.
    }
  }

  // Which ids this browser fired, for the app's deduplication health: text/plain and no-cors
  // (no preflight; the answer is not needed), no cookies.
  const firedIdsUrl = typeof settings?.firedIdsUrl === "string" ? settings.firedIdsUrl : "";
  function reportFired(call) {
    const report = firedReport(firedIdsUrl, call);
    if (!report) return undefined;
    return attempt(() =>
      fetch(report.url, {
        method: "POST",
        mode: "no-cors",
        credentials: "omit",
        keepalive: true,
        headers: { "Content-Type": "text/plain" },
        body: report.body,
      }),
    );
  }

  const send = (call, event, pixelIds) => (call ? fbq(...call, event, pixelIds) : undefined);

  analytics.subscribe("checkout_started", (event) =>
    send(initiateCheckoutCall(event, rules), event, rules.checkoutPixelIds),
  );
  analytics.subscribe("checkout_completed", (event) => send(purchaseCall(event, rules), event, rules.purchasePixelIds));
  // Browser only: every pixel of the shop.
  analytics.subscribe("product_added_to_cart", (event) => send(addToCartCall(event, rules), event, rules.pixelIds));
  // No page_viewed: the theme app embed fires PageView on storefront pages, and a second
  // PageView from here would count every page twice.
});
