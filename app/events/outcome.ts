// What building an event from one webhook can come to. Every branch carries a reason a
// merchant can read, because nothing may be dropped silently.
import type { MetaEvent } from "../meta/event";

/**
 * What an event went without, or with less of, and why. `code` is stable (stored with the
 * event, counted on the dashboard); `message` is for the merchant.
 */
export type NoteCode =
  /** A malformed _fbp / _fbc cart attribute was left out (Meta rejects malformed ones). */
  | "malformed_fbp"
  | "malformed_fbc"
  /** The buyer opted out of the sale of data: sent with Limited Data Use. */
  | "limited_data_use"
  /** A website event without the browser's user agent: Meta takes it but matches it less well. */
  | "no_user_agent"
  /** The browser IP given was not a public address (private, loopback, CGNAT...): not sent. */
  | "client_ip_not_public"
  /** The browser IP given was not an IP address at all: not sent. */
  | "malformed_client_ip"
  /** Gift-card sales left out of value, contents and num_items (the shop's setting). */
  | "gift_cards_excluded"
  /** Tips left out of value (the shop's setting). */
  | "tips_excluded"
  /** The storefront's browser pixel came from the theme app embed's own field, not the app's pixels (app/events/browser-ids.ts). */
  | "embed_pixel_override"
  /** The buyer's IP / user agent were dropped from the stored payload once it could no longer be sent (app/pipeline/event-store.server.ts). */
  | "client_data_removed";

export interface Note {
  code: NoteCode;
  message: string;
}

export type BuildOutcome =
  | {
      status: "ready";
      event: MetaEvent;
      /** Set only for Shopify test orders: they must never mix with production traffic. */
      testEventCode?: string;
      /** What was left out and why (malformed fbc, declined sale of data, no user agent...). */
      notes: Note[];
    }
  /**
   * Deliberately not sent: a test order, a cancelled order, a source the shop excluded, a
   * declined consent. No event is stored; the webhook's receipt keeps the reason.
   */
  | { status: "held_back"; reason: string }
  /**
   * Cannot be sent as it is: the payload is unreadable, or the event breaks one of Meta's rules
   * (app/meta/validate.ts). `code` is stable for storage and statistics. `event` is the built
   * (hashed) event when the payload was readable, so the merchant can see it, with the notes
   * of its building.
   */
  | { status: "invalid"; code: string; reason: string; event?: MetaEvent; notes?: Note[] };

export interface BuildContext {
  /** The shop's myshopify domain, e.g. "example.myshopify.com". */
  shop: string;
}
