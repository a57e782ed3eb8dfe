import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, parseEnv } from "./env.server";

describe("vault key settings", () => {
  it.each([
    ["ENCRYPTION_KEY", "abcd"],
    ["ENCRYPTION_KEY_PREVIOUS", "not a key"],
    ["ENCRYPTION_KEY_PREVIOUS", randomBytes(16).toString("hex")],
  ])("refuses %s that is not 32 bytes, naming it", (name, value) => {
    expect(() => parseEnv({ [name]: value })).toThrow(ConfigError);
    expect(() => parseEnv({ [name]: value })).toThrow(new RegExp(`setting ${name} is invalid: must be 32 bytes`));
  });
  it("accepts hex or base64 keys, and treats an empty value as unset", () => {
    const env = parseEnv({
      ENCRYPTION_KEY: randomBytes(32).toString("hex"),
      ENCRYPTION_KEY_PREVIOUS: randomBytes(32).toString("base64"),
    });
    expect(env.ENCRYPTION_KEY).toHaveLength(64);
    expect(env.ENCRYPTION_KEY_PREVIOUS).toHaveLength(44);
    expect(parseEnv({ ENCRYPTION_KEY_PREVIOUS: "" }).ENCRYPTION_KEY_PREVIOUS).toBeUndefined();
  });
});
