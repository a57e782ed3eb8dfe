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

describe("Connect with Meta settings", () => {
  it.each([
    ["META_APP_ID", "my-app"],
    ["META_LOGIN_CONFIG_ID", "12 34"],
    ["META_DIALOG_URL", "facebook"],
  ])("refuses %s that is not what Meta gives, naming it", (name, value) => {
    expect(() => parseEnv({ [name]: value })).toThrow(new RegExp(`setting ${name} is invalid`));
  });
  it("reads the app id and configuration id, treats empty as unset, and defaults the dialog to Facebook's", () => {
    expect(parseEnv({ META_APP_ID: "1234567890", META_LOGIN_CONFIG_ID: "987654321" })).toMatchObject({
      META_APP_ID: "1234567890",
      META_LOGIN_CONFIG_ID: "987654321",
      META_DIALOG_URL: "https://www.facebook.com",
    });
    expect(parseEnv({ META_APP_ID: "", META_LOGIN_CONFIG_ID: "" })).toMatchObject({
      META_APP_ID: undefined,
      META_LOGIN_CONFIG_ID: undefined,
    });
  });
});
