// The normalisation rules for email and phone that run in the buyer's browser too: the web pixel
// bundles this file (extensions/capi-relay-pixel/src/advanced-matching.js), so the browser's
// advanced matching and the server's user_data (user-data.ts) hash the same text. It imports
// nothing: it must stay small and run in Shopify's web pixel sandbox (a web worker).

const PLACEHOLDERS = new Set(["", "null", "undefined", "none", "n/a", "na", "-", "nil"]);

/** A value as text, NFC, trimmed; undefined for nothing or a placeholder ("null", "n/a"...). */
export function cleanValue(raw: string | number | null | undefined): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  // NFC so that "é" typed as e + combining accent hashes like the precomposed "é".
  const text = String(raw).normalize("NFC").trim();
  return PLACEHOLDERS.has(text.toLowerCase()) ? undefined : text;
}

// Pragmatic address check: one @, no spaces, a dot in the domain, a TLD of 2+ letters.
// Stricter RFC parsing rejects real addresses Shopify accepted; looser lets junk through.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)*\.[\p{L}]{2,}$/u;

export function normalizeEmail(raw: string): string | undefined {
  const email = raw.toLowerCase().replace(/\s+/g, "");
  return EMAIL.test(email) && !email.includes("..") ? email : undefined;
}

// "+" and digits, with spaces or dashes between: E.164 as written by people and by Shopify.
const INTERNATIONAL = /^\+\d[\d -]*$/;

// Every calling code in use, geographic and not (800 freephone, 870 Inmarsat...), as in
// libphonenumber's metadata: extensions.test.ts checks this list against it. Calling codes are
// prefix-free, so at most one of a number's first 1 to 3 digits is one.
const CALLING_CODES = new Set(
  (
    "1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 " +
    "82 84 86 90 91 92 93 94 95 98 211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 " +
    "233 234 235 236 237 238 239 240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 255 256 257 " +
    "258 260 261 262 263 264 265 266 267 268 269 290 291 297 298 299 350 351 352 353 354 355 356 357 358 " +
    "359 370 371 372 373 374 375 376 377 378 380 381 382 383 385 386 387 389 420 421 423 500 501 502 503 " +
    "504 505 506 507 508 509 590 591 592 593 594 595 596 597 598 599 670 672 673 674 675 676 677 678 679 " +
    "680 681 682 683 685 686 687 688 689 690 691 692 800 808 850 852 853 855 856 870 878 880 881 882 883 " +
    "886 888 960 961 962 963 964 965 966 967 968 970 971 972 973 974 975 976 977 979 992 993 994 995 996 998"
  ).split(" "),
);
export const CALLING_CODE_LIST = [...CALLING_CODES];

/**
 * A phone already written internationally ("+44 7700 900123", Shopify checkout's own form),
 * as E.164 digits without "+", the way normalizePhone (user-data.ts) answers for it. Without
 * each country's numbering plan (libphonenumber's metadata is bigger than a web pixel may be)
 * some numbers cannot be read surely, and are left out rather than hashed differently: national
 * numbers, an unknown calling code, and a 0 after the calling code (a trunk prefix the plan
 * would drop, "+44 (0)20", or a number that keeps it, as in Italy). The server reads those from
 * the order. extensions.test.ts holds this to normalizePhone on the core's test vectors.
 */
export function normalizeInternationalPhone(raw: string): string | undefined {
  if (!INTERNATIONAL.test(raw)) return undefined;
  const digits = raw.slice(1).replace(/[ -]/g, "");
  if (!/^\d{7,15}$/.test(digits)) return undefined;
  const codeLength = [1, 2, 3].find((n) => CALLING_CODES.has(digits.slice(0, n)));
  if (codeLength === undefined || digits.charAt(codeLength) === "0") return undefined;
  return digits;
}
