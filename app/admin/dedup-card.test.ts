// The deduplication card and the other-pixel warning as the server renders them: the figures
// of a DedupHealth in plain words, and what to do about another pixel or Meta's own channel.
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { AppProvider } from "@shopify/polaris";
import en from "@shopify/polaris/locales/en.json";
import { describe, expect, it } from "vitest";
import { dedupHealth } from "../pipeline/dedup-health";
import { DedupCard, MetaChannelBanner, OtherPixelBanner } from "./dedup-card";

const render = (node: ReturnType<typeof createElement>) =>
  renderToStaticMarkup(createElement(AppProvider, { i18n: en }, node))
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    // The text as read: React escapes &, ' and >.
    .replace(/&#x27;/g, "'")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

const day = new Date().toISOString().slice(0, 10);

describe("DedupCard", () => {
  it("leads with the purchases only the server delivered, then each event's sent / both / server only", () => {
    const health = dedupHealth(
      [
        { eventName: "Purchase", day, serverSent: 8, paired: 6 },
        { eventName: "InitiateCheckout", day, serverSent: 10, paired: 9 },
      ],
      true,
    );
    const text = render(createElement(DedupCard, { health }));
    expect(text).toContain("25 % of purchases reached Meta only through the server");
    expect(text).toContain("Purchases 8 6 (75 %) 2 (25 %)");
    expect(text).toContain("Checkouts started 10 9 (90 %) 1 (10 %)");
    expect(text).toContain(`Purchases, ${day} 8 6 (75 %) 2 (25 %)`);
  });

  it("says when nothing was sent, and when the storefront pixel reported nothing, instead of 0 %", () => {
    expect(render(createElement(DedupCard, { health: dedupHealth([], false) }))).toContain("Nothing to compare yet");
    const silent = render(
      createElement(DedupCard, {
        health: dedupHealth([{ eventName: "Purchase", day, serverSent: 3, paired: 0 }], false),
      }),
    );
    expect(silent).toContain("has reported no event");
    expect(silent).not.toContain("100 %");
  });
});

describe("OtherPixelBanner", () => {
  it("names the pixel and says what to do; nothing without a sighting", () => {
    const text = render(
      createElement(OtherPixelBanner, {
        sightings: [{ pixelId: "1234567890", label: "Main store", lastSeenAt: new Date().toISOString() }],
      }),
    );
    expect(text).toContain("Another Meta pixel on your storefront also sends to pixel Main store (1234567890)");
    expect(text).toContain("What to do: keep one of them.");
    expect(renderToStaticMarkup(createElement(OtherPixelBanner, { sightings: [] }))).toBe("");
  });
});

describe("MetaChannelBanner", () => {
  it("says what happens and what to do, naming the shop's pixels; nothing without a warning", () => {
    const one = render(
      createElement(MetaChannelBanner, {
        warning: { pixels: [{ pixelId: "1234567890", label: "Main store" }] },
        settingsUrl: "/app/settings",
      }),
    );
    expect(one).toContain("Meta's Facebook & Instagram channel may count your purchases twice");
    expect(one).toContain(
      "If its data sharing sends to pixel Main store (1234567890) too, Meta gets each purchase twice",
    );
    expect(one).toContain("open Settings > Data sharing and turn data sharing off for this pixel");
    expect(one).toContain("Review pixels in Settings");
    const two = render(
      createElement(MetaChannelBanner, {
        warning: {
          pixels: [
            { pixelId: "111", label: null },
            { pixelId: "222", label: "Agency" },
          ],
        },
        settingsUrl: "/app/settings",
      }),
    );
    expect(two).toContain("sends to one of your pixels 111, Agency (222) too");
    expect(
      renderToStaticMarkup(createElement(MetaChannelBanner, { warning: null, settingsUrl: "/app/settings" })),
    ).toBe("");
  });
});
