import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptToken, encryptToken, parseVaultKey, tokenFingerprint, VaultError } from "./token-vault";

const key = randomBytes(32);

describe("token vault", () => {
  it("round-trips a token and never stores it in clear", () => {
    const sealed = encryptToken("EAA-fake-vault-test-token", key);
    expect(sealed).not.toContain("EAA-fake-vault-test-token");
    expect(decryptToken(sealed, key)).toBe("EAA-fake-vault-test-token");
    expect(encryptToken("EAA-fake-vault-test-token", key)).not.toBe(sealed);
  });
  it("refuses a wrong key or a tampered value", () => {
    const sealed = encryptToken("tok", key);
    expect(() => decryptToken(sealed, randomBytes(32))).toThrow(VaultError);
    expect(() => decryptToken(sealed.slice(0, -2) + "AA", key)).toThrow(VaultError);
    expect(() => decryptToken("garbage", key)).toThrow(VaultError);
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
