// What building an event from one webhook can come to. Every branch carries a reason a
// merchant can read, because nothing may be dropped silently.
import type { MetaEvent } from "../meta/event";

export type BuildOutcome =
  | {
      status: "ready";
      event: MetaEvent;
      /** Set only for Shopify test orders: they must never mix with production traffic. */
      testEventCode?: string;
      /** Identifiers left out and why (malformed fbc, declined sale of data...). */
      notes: string[];
    }
  /** Deliberately not sent: a test order, a source the shop excluded, a declined consent. */
  | { status: "skipped"; reason: string }
  /**
   * Cannot or must not be sent as it is; `code` is stable for storage and statistics. `event`
   * is the built (hashed) event when the payload was readable, so the merchant can see it.
   */
  | { status: "rejected"; code: string; reason: string; event?: MetaEvent };

export interface BuildContext {
  /** The shop's myshopify domain, e.g. "example.myshopify.com". */
  shop: string;
}
