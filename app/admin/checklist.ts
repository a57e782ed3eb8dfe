// The home page's onboarding checklist: four steps, each marked done from what the app has
// observed (never from what the merchant says they did), with what to do next. Pure, and
// bundled into the browser: the facts come from app/admin/onboarding.server.ts.

/** The theme app embed's block handle: extensions/capi-relay-embed/blocks/capi-relay.liquid. */
export const EMBED_HANDLE = "capi-relay";

/** What the app has observed of a shop's setup. */
export interface OnboardingFacts {
  shop: string;
  /** The app's client id (SHOPIFY_API_KEY), for the theme editor's deep link. */
  apiKey: string;
  /** The saved destination, absent before the pixel is connected. */
  destination: {
    pixelId: string;
    testEventCode: string | null;
    paused: boolean;
    /** The last connection check's status (connected | failed | unchecked); absent before the first. */
    checkStatus?: string;
    /** A Connect with Meta token past its end (app/meta/token-expiry.ts): Meta refuses it whatever the check said. */
    tokenExpired?: boolean;
  } | null;
  /** Purchases of the last 7 days whose event carries the embed's browser id (user_data.fbp, from the _fbp cart attribute). */
  embedOrders7d: number;
  /** The last test event Meta counted, and the pixel it went to. */
  testEvent: { at: string; pixelId: string } | null;
  /** Real (not test) Purchases Meta accepted, ever. */
  realPurchasesSent: number;
}

export type StepId = "connect" | "embed" | "test-event" | "live";

export interface ChecklistStep {
  id: StepId;
  title: string;
  done: boolean;
  /** What the app observed, and what to do next when the step is not done. */
  detail: string;
  /** Where to go to do it; absent when there is nothing to do. `external`: outside the app (the admin's theme editor). */
  action?: { label: string; url: string; external?: boolean };
}

export interface Checklist {
  steps: ChecklistStep[];
  done: number;
  total: number;
  complete: boolean;
}

export function themeEditorUrl(shop: string, apiKey: string): string {
  return `https://${shop}/admin/themes/current/editor?context=apps&activateAppId=${encodeURIComponent(apiKey)}/${EMBED_HANDLE}`;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function connectStep({ destination }: OnboardingFacts): ChecklistStep {
  const base = { id: "connect" as const, title: "Connect your Meta pixel" };
  const action = { label: destination ? "Open settings" : "Connect pixel", url: "/app/settings" };
  if (!destination)
    return {
      ...base,
      done: false,
      detail:
        "Save your pixel (dataset) ID and Conversions API access token in Settings. Meta checks them when you save.",
      action,
    };
  if (destination.paused)
    return {
      ...base,
      done: false,
      detail: `Meta stopped accepting events for pixel ${destination.pixelId}. Save a new access token in Settings.`,
      action,
    };
  if (destination.tokenExpired)
    return {
      ...base,
      done: false,
      detail: `The connection with Facebook for pixel ${destination.pixelId} has expired. Press Connect with Meta again in Settings.`,
      action,
    };
  if (destination.checkStatus === "connected")
    return { ...base, done: true, detail: `Meta accepts the access token for pixel ${destination.pixelId}.` };
  if (destination.checkStatus === "failed")
    return { ...base, done: false, detail: `Meta refused the saved pixel and token. Fix them in Settings.`, action };
  return {
    ...base,
    done: false,
    detail: "The connection has not been checked with Meta yet. Open Settings and press Save to check it.",
    action,
  };
}

function embedStep(facts: OnboardingFacts): ChecklistStep {
  const base = { id: "embed" as const, title: "Turn on the theme app embed" };
  const action = { label: "Open theme editor", url: themeEditorUrl(facts.shop, facts.apiKey), external: true };
  if (facts.embedOrders7d > 0) {
    return {
      ...base,
      done: true,
      detail: `We have seen the embed's data on ${plural(facts.embedOrders7d, "order", "orders")} in the last 7 days.`,
    };
  }
  return {
    ...base,
    done: false,
    detail:
      "Not seen yet: no order of the last 7 days carried the embed's data. Turn on CAPI Relay under App embeds and save the theme; this step is marked done after the next order from your store.",
    action,
  };
}

function testEventStep({ destination, testEvent }: OnboardingFacts): ChecklistStep {
  const base = { id: "test-event" as const, title: "Send a test event" };
  const action = { label: "Go to test event", url: "/app/settings" };
  if (destination && testEvent && testEvent.pixelId === destination.pixelId) {
    return { ...base, done: true, detail: `Meta received a test event for pixel ${destination.pixelId}.` };
  }
  if (!destination)
    return { ...base, done: false, detail: "Connect your pixel first, then send a test event from Settings.", action };
  return {
    ...base,
    done: false,
    detail: destination.testEventCode
      ? "Send a test event from Settings and check that it shows in Events Manager > Test events."
      : "Add the test event code from Events Manager > Test events in Settings, then send a test event.",
    action,
  };
}

function liveStep({ destination, realPurchasesSent }: OnboardingFacts): ChecklistStep {
  const base = { id: "live" as const, title: "Go live" };
  if (destination?.testEventCode) {
    return {
      ...base,
      done: false,
      detail: "When you are done testing, clear the test event code in Settings and save.",
      action: { label: "Open settings", url: "/app/settings" },
    };
  }
  if (!destination)
    return {
      ...base,
      done: false,
      detail: "Once your pixel is connected, your first real order sent to Meta marks this step done.",
    };
  if (realPurchasesSent > 0)
    return {
      ...base,
      done: true,
      detail: `Meta accepted ${plural(realPurchasesSent, "real purchase", "real purchases")} from your store.`,
    };
  return {
    ...base,
    done: false,
    detail: "Waiting for your first real order: this step is marked done when Meta accepts its Purchase.",
    action: { label: "View events", url: "/app/events" },
  };
}

export function onboardingChecklist(facts: OnboardingFacts): Checklist {
  const steps = [connectStep(facts), embedStep(facts), testEventStep(facts), liveStep(facts)];
  const done = steps.filter((s) => s.done).length;
  return { steps, done, total: steps.length, complete: done === steps.length };
}
