// CAPI Relay web pixel: the browser half of InitiateCheckout and Purchase, with the same
// event ids as the server events, so Meta keeps one of each (see src/mapping.js).
//
// App pixels run in Shopify's strict sandbox: a web worker with no DOM, so Meta's fbevents.js
// (which needs `document`) cannot run here. `fbq` below keeps fbq's call signature and sends
// each call to Meta's pixel endpoint (facebook.com/tr) the way the pixel's image fallback
// does: pixel id, event name, eventID as `eid`, custom data as `cd[...]`, and the first-party
// `_fbp` / `_fbc` cookies. Shopify loads the pixel only with the consent declared in
// shopify.extension.toml ([customer_privacy]).
import { register } from "@shopify/web-pixels-extension";
import { addToCartCall, initiateCheckoutCall, isPixelId, pixelRequest, purchaseCall } from "./mapping.js";

register(({ analytics, browser, settings }) => {
  // Every pixel the shop sends to fires each event with the same event id as the server's copy.
  const pixelIds = (typeof settings?.pixelIds === "string" ? settings.pixelIds : "")
    .split(",")
    .map((id) => id.trim())
    .filter(isPixelId);
  if (pixelIds.length === 0) return;

  const cookie = (name) =>
    Promise.resolve()
      .then(() => browser.cookie.get(name))
      .then((value) => (typeof value === "string" && value !== "" ? value : undefined))
      .catch(() => undefined);

  /** fbq("track", name, params, { eventID }), for one Shopify customer event. */
  async function fbq(command, eventName, params, options, event) {
    if (command !== "track") return;
    try {
      const [fbp, fbc] = await Promise.all([cookie("_fbp"), cookie("_fbc")]);
      const doc = event?.context?.document;
      const context = {
        href: doc?.location?.href,
        referrer: doc?.referrer,
        timestampMs: Date.parse(event?.timestamp) || Date.now(),
        fbp,
        fbc,
      };
      await Promise.all(
        pixelIds.map((pixelId) => {
          const request = pixelRequest(pixelId, [command, eventName, params, options], context);
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
    } catch {
      // A lost browser event is covered by the server event.
    }
  }

  const send = (call, event) => (call ? fbq(...call, event) : undefined);

  analytics.subscribe("checkout_started", (event) => send(initiateCheckoutCall(event), event));
  analytics.subscribe("checkout_completed", (event) => send(purchaseCall(event), event));
  analytics.subscribe("product_added_to_cart", (event) => send(addToCartCall(event), event));
  // No page_viewed: the theme app embed fires PageView on storefront pages, and a second
  // PageView from here would count every page twice.
});
