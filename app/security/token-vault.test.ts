import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  isSealed,
  isSealedUnderCurrentKey,
  keyId,
  openSecret,
  parseVaultKey,
  sealSecret,
  tokenFingerprint,
  VaultError,
  type SealContext,
} from "./token-vault";

const key = randomBytes(32);
const previous = randomBytes(32);
const TOKEN = "EAA-fake-vault-test-token";
const META: SealContext = { purpose: "meta-access-token", shop: "a.myshopify.com" };

/** The format before key ids and AAD, as the old vault wrote it. */
function sealV1(token: string, k: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", k, iv);
  const ct = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(
    ".",
  );
}

/** The same sealed value with its tag cut to `bytes` (what Node accepts unless the length is pinned). */
function truncateTag(sealed: string, bytes: number, at = 3): string {
  const parts = sealed.split(".");
  parts[at] = Buffer.from(parts[at]!, "base64url").subarray(0, bytes).toString("base64url");
  return parts.join(".");
}

function flipCiphertextBit(sealed: string): string {
  const parts = sealed.split(".");
  const ct = Buffer.from(parts[4]!, "base64url");
  ct[0]! ^= 1;
  parts[4] = ct.toString("base64url");
  return parts.join(".");
}

describe("token vault", () => {
  it("round-trips a token as v2.<kid>.…, never in clear, with a fresh IV each time", () => {
    const sealed = sealSecret(TOKEN, META, key);
    expect(sealed).not.toContain(TOKEN);
    expect(sealed.split(".")).toHaveLength(5);
    expect(sealed.startsWith(`v2.${keyId(key)}.`)).toBe(true);
    expect(keyId(key)).toMatch(/^[0-9a-f]{8}$/);
    expect(sealed).not.toContain(key.toString("hex").slice(0, 8));
    expect(openSecret(sealed, META, key)).toBe(TOKEN);
    expect(sealSecret(TOKEN, META, key)).not.toBe(sealed);
  });

  const sealed = sealSecret(TOKEN, META, key);
  it.each<[string, () => string]>([
    ["another shop", () => openSecret(sealed, { ...META, shop: "b.myshopify.com" }, key)],
    ["another purpose", () => openSecret(sealed, { ...META, purpose: "shopify-session" }, key)],
    ["a tag cut to 4 bytes", () => openSecret(truncateTag(sealed, 4), META, key)],
    ["a tag cut to 12 bytes", () => openSecret(truncateTag(sealed, 12), META, key)],
    ["a tag cut to 15 bytes", () => openSecret(truncateTag(sealed, 15), META, key)],
    ["a v1 tag cut to 4 bytes", () => openSecret(truncateTag(sealV1(TOKEN, key), 4, 2), META, key)],
    ["a tampered ciphertext", () => openSecret(flipCiphertextBit(sealed), META, key)],
    [
      "an unknown kid (another key)",
      () => openSecret(sealed, META, { current: randomBytes(32), previous: randomBytes(32) }),
    ],
    [
      "a kid naming the current key on a value sealed under another",
      () => openSecret(sealed.replace(/^v2\.[0-9a-f]{8}\./, `v2.${keyId(previous)}.`), META, { current: previous }),
    ],
    ["garbage", () => openSecret("garbage", META, key)],
    [
      "a v1 value under neither key",
      () => openSecret(sealV1(TOKEN, randomBytes(32)), META, { current: key, previous }),
    ],
  ])("refuses %s", (_name, open) => {
    expect(open).toThrow(VaultError);
  });

  it("opens a value sealed under the previous key during a rotation, and names it as not current", () => {
    const old = sealSecret(TOKEN, META, previous);
    expect(openSecret(old, META, { current: key, previous })).toBe(TOKEN);
    expect(isSealedUnderCurrentKey(old, { current: key, previous })).toBe(false);
    expect(
      isSealedUnderCurrentKey(sealSecret(TOKEN, META, { current: key, previous }), { current: key, previous }),
    ).toBe(true);
    expect(() => openSecret(old, META, key)).toThrow(/neither ENCRYPTION_KEY nor ENCRYPTION_KEY_PREVIOUS/);
  });

  it("still opens v1 values (no kid, no AAD) under the current or the previous key", () => {
    expect(openSecret(sealV1(TOKEN, key), META, key)).toBe(TOKEN);
    expect(openSecret(sealV1(TOKEN, previous), META, { current: key, previous })).toBe(TOKEN);
    expect(isSealedUnderCurrentKey(sealV1(TOKEN, key), key)).toBe(false);
  });

  it("tells sealed values from clear Shopify tokens by their prefix", () => {
    expect(isSealed(sealed)).toBe(true);
    expect(isSealed(sealV1(TOKEN, key))).toBe(true);
    expect(isSealed("shpat_0123456789abcdef")).toBe(false);
    expect(isSealed("")).toBe(false);
  });

  it.each([
    ["hex", "ab".repeat(32), true],
    ["base64", randomBytes(32).toString("base64"), true],
    ["too short", "abcd", false],
  ])("parses a %s key", (_name, text, ok) => {
    if (ok) expect(parseVaultKey(text)).toHaveLength(32);
    else expect(() => parseVaultKey(text)).toThrow(/32 bytes/);
  });
  it("fingerprints tell tokens apart without revealing them", () => {
    expect(tokenFingerprint("a")).toBe(tokenFingerprint("a"));
    expect(tokenFingerprint("a")).not.toBe(tokenFingerprint("b"));
    expect(tokenFingerprint("a")).toHaveLength(16);
  });
});
