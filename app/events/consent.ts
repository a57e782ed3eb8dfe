// What the buyer's recorded consent means for the server event.
import type { MetaEvent } from "../meta/event";
import type { Consent } from "./browser-ids";
import type { Note } from "./outcome";
import type { ShopEventSettings } from "./settings";

export interface ConsentDecision {
  skip?: string;
  processing: Pick<
    MetaEvent,
    "data_processing_options" | "data_processing_options_country" | "data_processing_options_state"
  >;
  notes: Note[];
}

export function consentDecision(consent: Consent, settings: ShopEventSettings): ConsentDecision {
  if (consent.marketing === false && settings.respectMarketingConsent) {
    return { skip: "the buyer declined marketing tracking", processing: {}, notes: [] };
  }
  if (consent.saleOfData === false) {
    // Limited Data Use with country/state 0: Meta geolocates and applies the state's law.
    return {
      processing: {
        data_processing_options: ["LDU"],
        data_processing_options_country: 0,
        data_processing_options_state: 0,
      },
      notes: [{ code: "limited_data_use", message: "buyer opted out of the sale of data: sent with Limited Data Use" }],
    };
  }
  return { processing: {}, notes: [] };
}
