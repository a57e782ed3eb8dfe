/*
 * CAPI Relay storefront embed: the source of extensions/capi-relay-embed/assets/capi-relay.js.
 * `npm run build:embed` minifies it into that asset (extensions/embed-source/build.mjs); the
 * asset is committed because `shopify app deploy` ships theme assets as they are, and a test
 * fails when it is stale or over theme-check's 10 KB.
 *
 * On every storefront page where the merchant turned on the "CAPI Relay" app embed it
 *  - keeps Meta's first-party browser ids (_fbp, and _fbc after an ad click with ?fbclid=),
 *  - copies them, the user agent and the visitor's consent into cart attributes, which Shopify
 *    turns into the order's note_attributes (read by app/events/browser-ids.ts), after every
 *    cart change and before checkout,
 *  - optionally loads Meta's browser pixel and fires PageView / ViewContent.
 *
 * Consent fails closed: nothing of the above happens until window.Shopify.customerPrivacy
 * says marketing is allowed (true when the visitor agreed, or when the shop's settings need no
 * consent in the visitor's region). An API that never loads, loads with an error or answers
 * nothing means no. Limited Data Use exactly when the server applies it: sale of data refused.
 *
 * Loaded by Node (the tests), it exports its functions and runs nothing. Nothing here may
 * throw into the page: every entry point is wrapped.
 */
(function () {
  "use strict";

  var ATTR = { fbp: "_fbp", fbc: "_fbc", consent: "_capi_consent", userAgent: "_capi_ua", embedPixels: "_capi_pixels" };
  var COOKIE_DAYS = 90;
  var DAY_MS = 24 * 60 * 60 * 1000;
  var SYNC_DELAY_MS = 300;
  // How long a checkout waits for a cart write in flight before it goes anyway.
  var CHECKOUT_WAIT_MS = 1500;
  // A page never writes the cart more often than this, whatever happens.
  var MAX_CART_WRITES = 6;
  var FBEVENTS_URL = "https://connect.facebook.net/en_US/fbevents.js";
  var SESSION_KEY = "capi_relay_sid";
  // Our pixel ids already reported as run by another Meta pixel in this tab (sessionStorage).
  var SEEN_KEY = "capi_relay_seen";
  // Shopify's cart cookie: without it the visitor has no cart, and /cart/update.js would make one.
  var CART_COOKIE = "cart";
  // Resolves the relative URLs we only read the path or query of.
  var ANY_ORIGIN = "https://storefront.invalid/";

  // The same shapes the server accepts (app/meta/browser-ids.ts): anything else would be
  // dropped there, so it is not worth writing.
  var FBC = /^fb\.[0-2]\.\d{10,13}\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?$/;
  var FBP = /^fb\.[0-2]\.\d{10,13}\.\d+(\.[A-Za-z0-9_-]+)?$/;
  var FBCLID = /^[A-Za-z0-9_-]{10,500}$/;
  var PIXEL_ID = /^\d{6,20}$/;
  // Crawlers, monitors and audit tools that announce themselves: no cart, cookie or pixel for them.
  var BOT =
    /bot\b|crawl|spider|slurp|mediapartners|facebookexternalhit|bingpreview|lighthouse|pagespeed|pingdom|gtmetrix|headlesschrome|phantomjs|python-requests|curl\/|wget\/|httpclient|okhttp/i;
  // The Ajax Cart API's writes (and the Section Rendering variants without .js).
  var CART_CHANGE = /\/cart\/(add|change|update|clear)(\.js|\.json)?([?#]|$)/;

  // ---------------------------------------------------------------- pure helpers

  /** document.cookie -> { name: value }. The first occurrence of a name wins (most specific path). */
  function parseCookies(header) {
    var out = {};
    if (typeof header !== "string" || header === "") return out;
    var parts = header.split(";");
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i];
      var eq = part.indexOf("=");
      if (eq < 0) continue;
      var name = part.slice(0, eq).trim();
      if (name === "" || name === "__proto__" || Object.prototype.hasOwnProperty.call(out, name)) continue;
      var value = part.slice(eq + 1).trim();
      if (value.length >= 2 && value.charAt(0) === '"' && value.charAt(value.length - 1) === '"') {
        value = value.slice(1, -1);
      }
      try {
        value = decodeURIComponent(value);
      } catch (e) {
        // keep the raw value
      }
      out[name] = value;
    }
    return out;
  }

  /** The fbclid of a URL, exactly as written (Meta's click ids are case-sensitive). */
  function fbclidFromUrl(href) {
    if (typeof href !== "string" || href === "") return undefined;
    var value;
    try {
      value = new URL(href, ANY_ORIGIN).searchParams.get("fbclid");
    } catch (e) {
      return undefined;
    }
    value = value ? value.trim() : "";
    return FBCLID.test(value) ? value : undefined;
  }

  /** fbc as Meta defines it: fb.<subdomain index>.<creation time in ms>.<fbclid>. */
  function buildFbc(fbclid, nowMs) {
    return "fb.1." + Math.floor(nowMs) + "." + fbclid;
  }

  function clickIdOfFbc(fbc) {
    var parts = String(fbc).split(".");
    return parts.length >= 4 ? parts[3] : undefined;
  }

  /**
   * The _fbc the visitor should have now: the existing one, unless the URL carries a different
   * click id (a new ad click), in which case a new one with the current time.
   */
  function nextFbc(existing, fbclid, nowMs) {
    var valid = typeof existing === "string" && FBC.test(existing) ? existing : undefined;
    if (!fbclid) return valid;
    if (valid && clickIdOfFbc(valid) === fbclid) return valid;
    return buildFbc(fbclid, nowMs);
  }

  /** fbp as Meta defines it: fb.1.<creation time in ms>.<random 10-digit number>. */
  function buildFbp(nowMs, random) {
    var rnd = typeof random === "function" ? random : Math.random;
    var digit = function (min) {
      var d = min + Math.floor(rnd() * (10 - min));
      return String(Math.min(9, Math.max(min, d)));
    };
    var digits = digit(1);
    for (var i = 1; i < 10; i++) digits += digit(0);
    return "fb.1." + Math.floor(nowMs) + "." + digits;
  }

  function callFlag(api, name) {
    try {
      if (api && typeof api[name] === "function") {
        var value = api[name]();
        if (value === true || value === false) return value;
      }
    } catch (e) {
      // an API that throws tells us nothing
    }
    return undefined;
  }

  /** The visitor's consent from window.Shopify.customerPrivacy; unknown stays undefined. */
  function readConsent(api) {
    return {
      marketing: callFlag(api, "marketingAllowed"),
      analytics: callFlag(api, "analyticsProcessingAllowed"),
      saleOfData: callFlag(api, "saleOfDataAllowed"),
    };
  }

  /**
   * Consent from a `visitorConsentCollected` event's detail (marketingAllowed,
   * analyticsAllowed, saleOfDataAllowed), falling back to the API for what it lacks.
   */
  function consentFromEvent(detail, api) {
    var fromApi = readConsent(api);
    var pick = function (value, fallback) {
      return value === true || value === false ? value : fallback;
    };
    detail = detail || {};
    return {
      marketing: pick(detail.marketingAllowed, fromApi.marketing),
      analytics: pick(detail.analyticsAllowed, fromApi.analytics),
      saleOfData: pick(detail.saleOfDataAllowed, fromApi.saleOfData),
    };
  }

  /** "marketing=1;analytics=1;sale_of_data=0", the format parseConsent reads on the server. */
  function consentString(consent) {
    // Our field -> the server's key, in the server's order.
    var keys = { marketing: "marketing", analytics: "analytics", saleOfData: "sale_of_data" };
    var parts = [];
    for (var key in keys) {
      var value = consent ? consent[key] : undefined;
      if (value === true || value === false) parts.push(keys[key] + "=" + (value ? "1" : "0"));
    }
    return parts.join(";");
  }

  /**
   * The cart attributes this browser should carry. An empty string means "remove it".
   */
  function desiredAttributes(ids, consent, userAgent, pixels) {
    // The pixels this page fires, only while the theme editor's override differs from the
    // app's list: the order then tells the admin (app/events/browser-ids.ts).
    var out = {};
    var named = typeof pixels === "string";
    if (named) out[ATTR.embedPixels] = pixels;
    var recorded = consentString(consent);
    if (recorded) out[ATTR.consent] = recorded;
    // Without a yes, the cart keeps no Meta identifiers (an empty value removes an attribute).
    if (!trackingAllowed(consent)) {
      out[ATTR.fbp] = "";
      out[ATTR.fbc] = "";
      out[ATTR.userAgent] = "";
      if (named) out[ATTR.embedPixels] = "";
      return out;
    }
    // test() reads a missing id as "undefined", which no pattern takes.
    if (FBP.test(ids.fbp)) out[ATTR.fbp] = ids.fbp;
    if (FBC.test(ids.fbc)) out[ATTR.fbc] = ids.fbc;
    if (typeof userAgent === "string" && userAgent.trim() !== "") out[ATTR.userAgent] = userAgent.trim().slice(0, 512);
    return out;
  }

  /** Only the attributes whose value differs from the cart's; null when there is nothing to write. */
  function attributeChanges(desired, current) {
    var changes = null;
    var have = current && typeof current === "object" ? current : {};
    for (var key in desired) {
      if (!Object.prototype.hasOwnProperty.call(desired, key)) continue;
      var want = desired[key];
      if (typeof want !== "string") continue;
      var present = have[key] === undefined || have[key] === null ? "" : String(have[key]);
      if (want === present) continue;
      if (!changes) changes = {};
      changes[key] = want;
    }
    return changes;
  }

  /** Domains to try for a first-party cookie, the registrable one first (as Meta's pixel does). */
  function cookieDomainCandidates(hostname) {
    if (typeof hostname !== "string" || hostname === "" || hostname === "localhost") return [];
    if (/^[\d.]+$/.test(hostname) || hostname.indexOf(":") >= 0) return [];
    var labels = hostname.split(".");
    var out = [];
    for (var i = labels.length - 2; i >= 0; i--) out.push(labels.slice(i).join("."));
    return out;
  }

  function isPixelId(value) {
    return typeof value === "string" && PIXEL_ID.test(value);
  }

  /**
   * The pixel ids a Meta fbq found on the page runs: fbevents.js's getState().pixels once it
   * has loaded, else the "init" calls waiting in its stub's queue. null when it cannot tell
   * (not Meta's fbq, or an API that changed or throws): nothing is assumed then.
   */
  function pixelsRunBy(fbq) {
    try {
      var state = fbq.getState ? fbq.getState() : null;
      var list = state ? state.pixels : fbq.queue;
      if (typeof list.length !== "number") return null;
      var ids = [];
      for (var i = 0; i < list.length; i++) {
        var id = String(state ? list[i].id : list[i][0] === "init" && list[i][1]);
        if (isPixelId(id)) ids.push(id);
      }
      return ids;
    } catch (e) {
      return null;
    }
  }

  /**
   * What to do with our pixel ids when another Meta pixel's fbq was on the page first:
   * `seen`, ours that it runs (a sighting for the admin), and `fire`, ours to init on it and
   * fire. Left alone, it keeps the ids it runs (firing them too would count their PageView
   * twice) and we add the ones it lacks, since the server sends to those and their browser
   * copy would be missing otherwise; running = null (cannot tell) fires none. Taken over, all
   * of ours fire whatever it runs: the shop chose to remove the other pixel.
   */
  function otherPixelPlan(ours, running, takeOver) {
    var seen = [];
    var fire = [];
    for (var i = 0; i < ours.length; i++) {
      var runs = !!running && running.indexOf(ours[i]) >= 0;
      if (runs) seen.push(ours[i]);
      if (takeOver || (running && !runs)) fire.push(ours[i]);
    }
    return { seen: seen, fire: fire };
  }

  /**
   * The calls to send for a call someone else made to our fbq (Meta's standard snippet loaded
   * after ours finds window.fbq and uses it). fbq's track goes to every pixel inited on the
   * page, so each caller's track goes with trackSingle to the pixels it inited (`theirs`),
   * leaving out of ours the events we fired already (no second PageView); trackCustom and the
   * rest pass as they came (none of them repeats ours). Its init of one of our ids is dropped:
   * fbevents.js ignores a second init of a pixel anyway.
   */
  function foreignCalls(args, ours, theirs, fired) {
    var id = String(args[1]);
    if (args[0] === "init") {
      if (theirs.indexOf(id) < 0) theirs.push(id);
      return ours.indexOf(id) < 0 ? [args] : [];
    }
    if (args[0] !== "track") return [args];
    var out = [];
    for (var i = 0; i < theirs.length; i++) {
      if (ours.indexOf(theirs[i]) < 0 || fired.indexOf(id) < 0) {
        out.push(["trackSingle", theirs[i]].concat([].slice.call(args, 1)));
      }
    }
    return out;
  }

  /** ViewContent for a product page: the variant id as content id, like the server's Purchase. */
  function viewContent(config, sessionId) {
    var product = config && config.pageType === "product" ? config.product : null;
    if (!product || product.id === undefined || product.id === null) return null;
    var contentId = String(
      product.variantId !== undefined && product.variantId !== null ? product.variantId : product.id,
    );
    var params = { content_ids: [contentId], content_type: "product" };
    if (typeof product.price === "number" && isFinite(product.price) && config.currency) {
      params.value = Math.round(product.price) / 100;
      params.currency = String(config.currency).toUpperCase();
    }
    return { params: params, eventID: "view_" + product.id + "_" + sessionId };
  }

  // ---------------------------------------------------------------- browser side effects

  /** Tracking only on a yes from the Customer Privacy API: unknown (slow, failed, absent) is no. */
  function trackingAllowed(consent) {
    return !!consent && consent.marketing === true;
  }

  /** Limited Data Use, on the server's condition (app/events/consent.ts): sale of data refused. */
  function limitedDataUse(consent) {
    return !!consent && consent.saleOfData === false;
  }

  function isBot(userAgent) {
    return typeof userAgent === "string" && BOT.test(userAgent);
  }

  /** Whether a request URL (as passed to fetch or XHR) changes the cart. */
  function isCartChange(url) {
    if (typeof url !== "string") return false;
    try {
      return CART_CHANGE.test(new URL(url, ANY_ORIGIN).pathname);
    } catch (e) {
      return false;
    }
  }

  /**
   * The block's settings and page context, rendered by blocks/capi-relay.liquid as data
   * attributes (HTML-escaped by Liquid, so no value can break out of the element).
   */
  function readConfig(doc) {
    try {
      var node = doc.getElementById("capi-relay-config");
      if (!node) return {};
      var get = function (name) {
        var value = node.getAttribute(name);
        return value === null || value === "" ? undefined : value;
      };
      var config = {
        // The app's list (its metafield) or the theme editor's override, comma-separated.
        pixelIds: (get("data-pixel-ids") || "").split(","),
        override: get("data-override") === "true",
        loadPixel: get("data-load-pixel") !== "false",
        takeOver: get("data-other-pixel") === "take_over",
        pageType: get("data-page-type"),
        currency: get("data-currency"),
      };
      var productId = get("data-product-id");
      if (productId) {
        var price = Number(get("data-price"));
        config.product = {
          id: productId,
          variantId: get("data-variant-id"),
          price: isFinite(price) && get("data-price") !== undefined ? price : undefined,
        };
      }
      return config;
    } catch (e) {
      return {};
    }
  }

  function writeCookie(doc, name, value, nowMs, hostname, secure) {
    var base =
      name +
      "=" +
      encodeURIComponent(value) +
      "; expires=" +
      new Date(nowMs + COOKIE_DAYS * DAY_MS).toUTCString() +
      "; path=/; SameSite=Lax" +
      (secure ? "; Secure" : "");
    var domains = cookieDomainCandidates(hostname);
    for (var i = 0; i < domains.length; i++) {
      // The browser refuses public suffixes (co.uk, myshopify.com): try the next level.
      doc.cookie = base + "; domain=" + domains[i];
      if (parseCookies(doc.cookie)[name] === value) return true;
    }
    doc.cookie = base;
    return parseCookies(doc.cookie)[name] === value;
  }

  /**
   * Meta's queueing stub: calls wait in fbq.queue until fbevents.js takes over. Calls from the
   * page go through `watch` (an array of calls to make instead); the function returned sends
   * ours unwatched.
   */
  function installFbq(win, doc, watch) {
    var send = function (args) {
      if (fbq.callMethod) fbq.callMethod.apply(fbq, args);
      else fbq.queue.push(args);
    };
    var fbq = function () {
      var calls = watch(arguments);
      for (var i = 0; i < calls.length; i++) send(calls[i]);
    };
    fbq.push = fbq;
    fbq.loaded = true;
    fbq.version = "2.0";
    fbq.queue = [];
    win.fbq = fbq;
    if (!win._fbq) win._fbq = fbq;
    var script = doc.createElement("script");
    script.async = true;
    script.src = FBEVENTS_URL;
    (doc.head || doc.documentElement || doc.body).appendChild(script);
    return send;
  }

  /**
   * The embed's behaviour, against an injectable environment so that tests can drive it:
   * env = { window, document, fetch, setTimeout, clearTimeout, now?, random?, config? }.
   * env.fetch must be the page's fetch from before start() hooks it (our own cart requests
   * are no cart changes to react to).
   */
  function createRelay(env) {
    var win = env.window;
    var doc = env.document;
    var now =
      env.now ||
      function () {
        return Date.now();
      };
    var random = env.random || Math.random;
    var config = env.config || readConfig(doc);
    // What the tests look at; the rest of the embed's state is in the variables below.
    var state = {
      pixel: "off", // "off" | "ours" | "external" (another integration's fbq, which we share)
      bot: false,
    };
    var started = false;
    var visitorConsent = {};
    var pixelConsent = true;
    var pixelLdu = false;
    var timer = null;
    var syncing = null; // the sync in flight, a promise
    var again = false;
    var cartWrites = 0;
    var tabId = null;
    var released = false; // the next submit event is our own replay
    var send = null; // sends one call (an array) to the pixel
    var targets = []; // our pixels we init and fire
    var fired = []; // the events we fired, not to be repeated to our pixels by another's calls
    var theirs = []; // the pixels others inited on our fbq

    function safe(fn) {
      try {
        return fn();
      } catch (e) {
        return undefined;
      }
    }

    function privacyApi() {
      var shopify = win.Shopify;
      return shopify && shopify.customerPrivacy ? shopify.customerPrivacy : undefined;
    }

    function routeRoot() {
      var shopify = win.Shopify;
      var root = shopify && shopify.routes && typeof shopify.routes.root === "string" ? shopify.routes.root : "/";
      return root.charAt(root.length - 1) === "/" ? root : root + "/";
    }

    function sessionId() {
      if (tabId) return tabId;
      var id = safe(function () {
        return win.sessionStorage.getItem(SESSION_KEY);
      });
      if (!id) {
        id = now().toString(36) + Math.floor(random() * 1e9).toString(36);
        safe(function () {
          win.sessionStorage.setItem(SESSION_KEY, id);
        });
      }
      tabId = id;
      return id;
    }

    function ensureCookies() {
      var location = win.location || {};
      var hostname = location.hostname || "";
      var secure = location.protocol === "https:";
      var cookies = parseCookies(doc.cookie);
      var t = now();
      var fbc = nextFbc(cookies[ATTR.fbc], fbclidFromUrl(location.href), t);
      if (fbc && fbc !== cookies[ATTR.fbc]) writeCookie(doc, ATTR.fbc, fbc, t, hostname, secure);
      if (!cookies[ATTR.fbp]) writeCookie(doc, ATTR.fbp, buildFbp(t, random), t, hostname, secure);
    }

    var pixelIds = [];
    for (var i = 0, list = config.pixelIds || []; i < list.length; i++) {
      var id = String(list[i]).trim();
      if (isPixelId(id) && pixelIds.indexOf(id) < 0) pixelIds.push(id);
    }
    if (config.loadPixel === false) pixelIds = [];

    /**
     * Tells the app (through Shopify's app proxy, which signs it with the shop) that another
     * Meta pixel on the page runs these of our ids: once per id per tab, with consent only.
     */
    function report(ids) {
      safe(function () {
        if (!trackingAllowed(visitorConsent)) return;
        var storage = win.sessionStorage;
        var seen = String(storage.getItem(SEEN_KEY)).split(",");
        for (var i = 0; i < ids.length; i++) {
          if (pixelIds.indexOf(ids[i]) < 0 || seen.indexOf(ids[i]) >= 0) continue;
          seen.push(ids[i]);
          storage.setItem(SEEN_KEY, seen.join(","));
          // Same-origin credentials (fetch's default). A failed post is dropped, not retried in
          // this tab: the next tab or visit reports again.
          env
            .fetch(routeRoot() + "apps/capi-relay/seen?id=" + ids[i], { method: "POST", keepalive: true })
            .catch(Boolean);
        }
      });
    }

    function fire(name, params, options) {
      fired.push(name);
      var tail = params ? [name, params, options] : [name];
      // On a shared fbq, track would reach the other integration's pixels too.
      if (state.pixel === "ours") return send(["track"].concat(tail));
      for (var i = 0; i < targets.length; i++) send(["trackSingle", targets[i]].concat(tail));
    }

    function ensurePixel() {
      if (state.pixel !== "off" || !pixelIds.length) return;
      var other = win.fbq;
      targets = pixelIds;
      if (typeof other === "function") {
        // Another integration runs Meta's pixel on this page already: we share its fbq (a
        // second fbevents.js would not help) and fire only the pixels the plan gives.
        var plan = otherPixelPlan(pixelIds, pixelsRunBy(other), config.takeOver);
        report(plan.seen);
        state.pixel = "external";
        targets = plan.fire;
        send = function (args) {
          other.apply(win, args);
        };
        if (!plan.fire.length) return;
      } else {
        state.pixel = "ours";
        send = installFbq(win, doc, function (args) {
          // A watcher that fails lets the call through as it came.
          return (
            safe(function () {
              if (args[0] === "init") report([String(args[1])]);
              return foreignCalls(args, pixelIds, theirs, fired);
            }) || [args]
          );
        });
      }
      // Before init, so that every event of this pixel carries it (on a shared fbq it is the
      // page's setting: the visitor refused the sale of data to every pixel).
      pixelLdu = limitedDataUse(visitorConsent);
      if (pixelLdu) send(["dataProcessingOptions", ["LDU"], 0, 0]);
      // Every pixel the server sends to: one event fires each with one eventID.
      for (var n = 0; n < targets.length; n++) send(["init", targets[n]]);
      fire("PageView");
      var view = viewContent(config, sessionId());
      if (view) fire("ViewContent", view.params, { eventID: view.eventID });
    }

    /**
     * A pixel we loaded cannot be unloaded: it is told when consent or LDU change. A shared
     * fbq is its owner's to tell: ours fired on it once, at load, with consent.
     */
    function updatePixel(allowed) {
      if (state.pixel !== "ours") return;
      if (allowed !== pixelConsent) {
        pixelConsent = allowed;
        send(["consent", allowed ? "grant" : "revoke"]);
      }
      var ldu = limitedDataUse(visitorConsent);
      if (ldu !== pixelLdu) {
        pixelLdu = ldu;
        send(["dataProcessingOptions", ldu ? ["LDU"] : [], 0, 0]);
      }
    }

    function refresh(detail) {
      visitorConsent = detail ? consentFromEvent(detail, privacyApi()) : readConsent(privacyApi());
      var allowed = trackingAllowed(visitorConsent);
      if (allowed) {
        safe(ensureCookies);
        safe(ensurePixel);
      }
      safe(function () {
        updatePixel(allowed);
      });
      scheduleSync();
    }

    function scheduleSync() {
      if (timer !== null)
        safe(function () {
          env.clearTimeout(timer);
        });
      timer = env.setTimeout(function () {
        timer = null;
        sync();
      }, SYNC_DELAY_MS);
    }

    function cartRequest(path, body) {
      var init = { credentials: "same-origin", headers: { Accept: "application/json" } };
      if (body) {
        init.method = "POST";
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      return Promise.resolve(env.fetch(routeRoot() + path, init)).then(function (response) {
        if (!response || !response.ok) throw new Error("cart request failed");
        return response.json();
      });
    }

    /** Reads the cart, writes only the attributes that differ. Resolves, never rejects. */
    function sync() {
      if (syncing) {
        again = true;
        return syncing;
      }
      var cookies = parseCookies(doc.cookie);
      var ua = win.navigator && win.navigator.userAgent;
      var desired = desiredAttributes(
        { fbp: cookies[ATTR.fbp], fbc: cookies[ATTR.fbc] },
        visitorConsent,
        ua,
        config.override ? pixelIds.join(",") : "",
      );
      // No cart yet: writing attributes would create one. The first cart change creates it,
      // and that change brings us back here.
      if (cartWrites >= MAX_CART_WRITES || !cookies[CART_COOKIE] || !attributeChanges(desired, {})) {
        return Promise.resolve();
      }
      syncing = cartRequest("cart.js")
        .then(function (cart) {
          var changes = attributeChanges(desired, cart && cart.attributes);
          if (!changes) return;
          cartWrites += 1;
          return cartRequest("cart/update.js", { attributes: changes });
        })
        .catch(function () {
          // A failed cart call costs us the identifiers of one order, never the page.
        })
        .then(function () {
          syncing = null;
          if (again) {
            again = false;
            scheduleSync();
          }
        });
      return syncing;
    }

    /** Settles a pending or running sync now; resolves within CHECKOUT_WAIT_MS whatever happens. */
    function flush() {
      var pending = timer !== null || syncing;
      if (!pending) return null;
      if (timer !== null) {
        safe(function () {
          env.clearTimeout(timer);
        });
        timer = null;
      }
      return new Promise(function (resolve) {
        env.setTimeout(resolve, CHECKOUT_WAIT_MS);
        Promise.resolve(syncing).then(sync).then(resolve, resolve);
      });
    }

    /** Calls `onChange` after every fetch or XHR that changes the cart (theme code, drawers, apps). */
    function watchCartRequests(onChange) {
      var nativeFetch = win.fetch;
      if (typeof nativeFetch === "function") {
        win.fetch = function (input) {
          var result = nativeFetch.apply(this, arguments);
          safe(function () {
            // A string, a URL or a Request.
            if (isCartChange(typeof input === "string" ? input : String((input && input.url) || input))) {
              Promise.resolve(result).then(onChange, onChange);
            }
          });
          return result;
        };
      }
      var xhr = win.XMLHttpRequest && win.XMLHttpRequest.prototype;
      if (xhr && typeof xhr.open === "function") {
        var open = xhr.open;
        xhr.open = function (method, url) {
          try {
            if (isCartChange(String(url))) this.addEventListener("loadend", onChange);
          } catch (e) {
            // an odd request object is not ours to fix
          }
          return open.apply(this, arguments);
        };
      }
    }

    /** The way to checkout a click or submit starts, or null. */
    function checkoutStart(event) {
      var target = event.target;
      if (event.type === "submit") {
        var submitter = event.submitter;
        var action = String((target && target.getAttribute && target.getAttribute("action")) || "");
        if (/\/checkout/.test(action) || (submitter && submitter.name === "checkout")) {
          return function () {
            // requestSubmit keeps the submitter's name=checkout (submit() would drop it) and
            // fires a submit event of its own, which must go through.
            if (target.requestSubmit) {
              released = true;
              target.requestSubmit(submitter && submitter.form === target ? submitter : undefined);
            } else target.submit();
          };
        }
        return null;
      }
      var link = target && target.closest ? target.closest("a[href]") : null;
      if (link && /\/checkout/.test(link.getAttribute("href"))) {
        return function () {
          win.location.href = link.href;
        };
      }
      return null;
    }

    /** Checkout waits (briefly) for the cart attributes still being written. */
    function holdCheckout(event) {
      if (event.defaultPrevented) return;
      var proceed = checkoutStart(event);
      var wait = proceed && flush();
      if (!wait) return;
      event.preventDefault();
      wait.then(function () {
        safe(proceed);
      });
    }

    function start() {
      if (started) return;
      started = true;
      if (isBot(win.navigator && win.navigator.userAgent)) {
        state.bot = true;
        return;
      }
      safe(function () {
        doc.addEventListener("visitorConsentCollected", function (event) {
          safe(function () {
            refresh((event && event.detail) || {});
          });
        });
        doc.addEventListener("shopifyCustomerPrivacyApiLoaded", function () {
          safe(function () {
            refresh();
          });
        });
        var hold = function (event) {
          if (released && event.type === "submit") {
            released = false;
            return;
          }
          safe(function () {
            holdCheckout(event);
          });
        };
        doc.addEventListener("submit", hold, true);
        doc.addEventListener("click", hold, true);
      });
      safe(function () {
        watchCartRequests(scheduleSync);
      });
      if (privacyApi()) return refresh();
      var shopify = win.Shopify;
      // Until the API answers, consent is unknown, which is no: there is no deadline to miss.
      safe(function () {
        shopify.loadFeatures([{ name: "consent-tracking-api", version: "0.1" }], function (error) {
          if (!error) safe(refresh);
        });
      });
    }

    return { start: start, sync: sync, flush: flush, state: state, config: config };
  }

  // Node (the tests): export the functions, run nothing. The build drops this block
  // (esbuild's dropLabels), so the storefront never carries it.
  EXPORTS: {
    if (typeof module === "undefined" || !module || !module.exports || typeof window !== "undefined") break EXPORTS;
    module.exports = {
      ATTR: ATTR,
      parseCookies: parseCookies,
      fbclidFromUrl: fbclidFromUrl,
      buildFbc: buildFbc,
      nextFbc: nextFbc,
      buildFbp: buildFbp,
      readConsent: readConsent,
      consentFromEvent: consentFromEvent,
      consentString: consentString,
      desiredAttributes: desiredAttributes,
      attributeChanges: attributeChanges,
      cookieDomainCandidates: cookieDomainCandidates,
      isPixelId: isPixelId,
      pixelsRunBy: pixelsRunBy,
      otherPixelPlan: otherPixelPlan,
      foreignCalls: foreignCalls,
      viewContent: viewContent,
      readConfig: readConfig,
      trackingAllowed: trackingAllowed,
      limitedDataUse: limitedDataUse,
      isBot: isBot,
      isCartChange: isCartChange,
      createRelay: createRelay,
    };
  }

  // A storefront page: start once, even if the theme renders the embed twice.
  if (typeof window !== "undefined" && typeof document !== "undefined" && !window.__capiRelay) {
    try {
      var nativeFetch = window.fetch;
      var relay = createRelay({
        window: window,
        document: document,
        fetch: function (url, init) {
          return nativeFetch.call(window, url, init);
        },
        setTimeout: function (fn, ms) {
          return window.setTimeout(fn, ms);
        },
        clearTimeout: function (id) {
          window.clearTimeout(id);
        },
      });
      window.__capiRelay = relay;
      relay.start();
    } catch (e) {
      // never break the storefront
    }
  }
})();
