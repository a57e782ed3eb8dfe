// Meta's advanced matching for the browser events: the checkout's email and phone, normalised
// by the server's own rules (app/meta/contact-normalization.ts, bundled into the pixel) and
// hashed with SHA-256 here in the web worker, so the browser's ud[em] / ud[ph] equal the
// server's user_data.em / ph for the same buyer.
import { cleanValue, normalizeEmail, normalizeInternationalPhone } from "../../../app/meta/contact-normalization.ts";

const text = (value) => (typeof value === "string" || typeof value === "number" ? cleanValue(value) : undefined);

/** { em, ph } normalised, not hashed; a key is left out when the checkout has no usable value. */
export function matchValues(checkout) {
  const email = text(checkout?.email);
  const phones = [checkout?.phone, checkout?.shippingAddress?.phone, checkout?.billingAddress?.phone];
  let ph;
  for (const raw of phones) {
    const cleaned = text(raw);
    ph = cleaned === undefined ? undefined : normalizeInternationalPhone(cleaned);
    if (ph) break;
  }
  const em = email === undefined ? undefined : normalizeEmail(email);
  return { ...(em ? { em } : {}), ...(ph ? { ph } : {}) };
}

/** SHA-256 as lowercase hex, with the Web Crypto API of the worker. */
export async function sha256Hex(value, subtle = crypto.subtle) {
  const digest = await subtle.digest("SHA-256", new TextEncoder().encode(value));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** { em, ph } hashed, for pixelRequest's userData. */
export async function hashedMatch(checkout, subtle) {
  const out = {};
  for (const [key, value] of Object.entries(matchValues(checkout))) out[key] = await sha256Hex(value, subtle);
  return out;
}
