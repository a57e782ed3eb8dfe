// Secrets at rest (Meta access tokens, Shopify session tokens): AES-256-GCM under
// ENCRYPTION_KEY. A sealed value names the key that sealed it, so that during a rotation the
// previous key still opens it, and is bound to its shop and purpose as additional
// authenticated data, so that a value copied into another shop's row (or from a session into
// a destination) does not open. Meta tokens are opened only in the worker, just before a
// request to Meta; the admin page sees whether one is set, never it.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/** v2.<kid>.<iv>.<tag>.<ciphertext>, base64url; v1.<iv>.<tag>.<ciphertext> (no kid, no AAD) still opens. */
const VERSION = "v2";
const LEGACY_VERSION = "v1";
const IV_BYTES = 12;
// Node accepts a shortened GCM tag unless its length is pinned, and a 4-byte tag is forged in
// about 2^32 tries: only whole 16-byte tags are accepted.
const TAG_BYTES = 16;

/** meta-pending-login: a Connect with Meta token waiting (an hour at most) for the merchant to pick a pixel. */
export type SealPurpose = "meta-access-token" | "shopify-session" | "meta-pending-login";
export interface SealContext {
  purpose: SealPurpose;
  shop: string;
}

/** The key that seals, and during a rotation the one before it, which still opens. */
export interface VaultKeys {
  current: Buffer;
  previous?: Buffer;
}
/** A bare key is a key ring without a previous key. */
export type VaultKeyInput = Buffer | VaultKeys;

export class VaultError extends Error {}

/** ENCRYPTION_KEY as 32 bytes, given as 64 hex characters or base64. */
export function parseVaultKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (key.length !== 32) throw new VaultError("ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64");
  return key;
}

export function keyRing(keys: VaultKeyInput): VaultKeys {
  return Buffer.isBuffer(keys) ? { current: keys } : keys;
}

/** Names a key without revealing it: the first 8 hex digits of its SHA-256. */
export function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

// Shop domains and purposes contain no "|", so no two contexts share an AAD.
const aad = ({ purpose, shop }: SealContext) => Buffer.from(`capi-relay|${purpose}|${shop}`, "utf8");

export function sealSecret(secret: string, context: SealContext, keys: VaultKeyInput): string {
  const key = keyRing(keys).current;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(context));
  const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  const b64 = (bytes: Buffer) => bytes.toString("base64url");
  return [VERSION, keyId(key), b64(iv), b64(cipher.getAuthTag()), b64(ciphertext)].join(".");
}

export function openSecret(sealed: string, context: SealContext, keys: VaultKeyInput): string {
  const { current, previous } = keyRing(keys);
  const parts = sealed.split(".");
  if (parts[0] === VERSION && parts.length === 5) {
    const [, kid, iv, tag, ciphertext] = parts as [string, string, string, string, string];
    const key = [current, previous].find((k) => k && keyId(k) === kid);
    if (!key) throw new VaultError("sealed under a key that is neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS");
    return decrypt(key, iv, tag, ciphertext, aad(context));
  }
  if (parts[0] === LEGACY_VERSION && parts.length === 4) {
    // Sealed before key ids and AAD existed: whichever key opens it sealed it.
    const [, iv, tag, ciphertext] = parts as [string, string, string, string];
    for (const key of [current, previous]) {
      if (!key) continue;
      try {
        return decrypt(key, iv, tag, ciphertext);
      } catch {
        // try the next key
      }
    }
    throw new VaultError("cannot be decrypted with ENCRYPTION_KEY or ENCRYPTION_KEY_PREVIOUS");
  }
  throw new VaultError("not a sealed value");
}

function decrypt(key: Buffer, iv: string, tag: string, ciphertext: string, additionalData?: Buffer): string {
  const ivBytes = Buffer.from(iv, "base64url");
  const tagBytes = Buffer.from(tag, "base64url");
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new VaultError("malformed sealed value");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, ivBytes, { authTagLength: TAG_BYTES });
    if (additionalData) decipher.setAAD(additionalData);
    decipher.setAuthTag(tagBytes);
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new VaultError("the value cannot be decrypted: another key, shop or purpose, or altered");
  }
}

/** Tells a sealed value from a clear one (Shopify tokens start shpat_, shpua_, …). */
export function isSealed(value: string): boolean {
  return /^v[12]\./.test(value);
}

/** Sealed in the current format under the current key: nothing for a rotation to do. */
export function isSealedUnderCurrentKey(sealed: string, keys: VaultKeyInput): boolean {
  const [version, kid] = sealed.split(".");
  return version === VERSION && kid === keyId(keyRing(keys).current);
}

/** Tells a changed token from the same one without decrypting; reveals nothing usable. */
export function tokenFingerprint(token: string): string {
  return createHash("sha256").update(`capi-relay:${token}`).digest("hex").slice(0, 16);
}
