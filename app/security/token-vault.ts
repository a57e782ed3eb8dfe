// Access tokens at rest: AES-256-GCM under ENCRYPTION_KEY. A token is decrypted only in the
// worker, just before a request to Meta; the admin page sees whether one is set, never it.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const VERSION = "v1";

export class VaultError extends Error {}

/** ENCRYPTION_KEY as 32 bytes, given as 64 hex characters or base64. */
export function parseVaultKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (key.length !== 32) throw new VaultError("ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64");
  return key;
}

export function encryptToken(token: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ciphertext = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  return [VERSION, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ciphertext.toString("base64url")].join(".");
}

export function decryptToken(sealed: string, key: Buffer): string {
  const [version, iv, tag, ciphertext] = sealed.split(".");
  if (version !== VERSION || !iv || !tag || ciphertext === undefined) throw new VaultError("not a sealed token");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new VaultError("the token cannot be decrypted with this ENCRYPTION_KEY");
  }
}

/** Tells a changed token from the same one without decrypting; reveals nothing usable. */
export function tokenFingerprint(token: string): string {
  return createHash("sha256").update(`capi-relay:${token}`).digest("hex").slice(0, 16);
}
