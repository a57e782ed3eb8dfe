import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  businessesAnswerSchema,
  businessesRequest,
  businessPixelsRequest,
  codeExchangeRequest,
  debugTokenAnswerSchema,
  debugTokenRequest,
  LOGIN_PROBLEM_MESSAGES,
  LOGIN_PROBLEMS,
  loginDialogUrl,
  MAX_LISTED,
  MAX_NAME_LENGTH,
  pixelsAnswerSchema,
  readGraphAnswer,
  readLoginCallback,
  tokenExchangeAnswerSchema,
  tokenFacts,
  type LoginCallback,
} from "./facebook-login";
import type { MetaAnswer } from "./classify";

const app = {
  appId: "1122334455",
  configId: "998877665544",
  redirectUri: "https://capi-relay.example.com/auth/meta/callback",
  apiVersion: "v26.0",
};
const TOKEN = "EAAlogintoken" + "x".repeat(40);

describe("loginDialogUrl", () => {
  it("asks for a code with the app, its login configuration, the redirect and the state", () => {
    const url = new URL(loginDialogUrl("https://www.facebook.com/", app, "state-1.sig"));
    expect(url.origin + url.pathname).toBe("https://www.facebook.com/v26.0/dialog/oauth");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: app.appId,
      redirect_uri: app.redirectUri,
      state: "state-1.sig",
      config_id: app.configId,
      response_type: "code",
    });
  });
});

describe("requests", () => {
  it("exchanges the code by POST, with the secret in the body and never in the URL", () => {
    const request = codeExchangeRequest("https://graph.facebook.com", { ...app, appSecret: "s3cret" }, "AQcode");
    expect(request.method).toBe("POST");
    expect(request.url).toBe("https://graph.facebook.com/v26.0/oauth/access_token");
    expect(request.url).not.toContain("s3cret");
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      client_id: app.appId,
      client_secret: "s3cret",
      redirect_uri: app.redirectUri,
      code: "AQcode",
    });
  });
  it("asks debug_token with the app token in the header", () => {
    const request = debugTokenRequest("https://graph.facebook.com", { ...app, appSecret: "s3cret" }, TOKEN);
    expect(request.url).toBe(`https://graph.facebook.com/v26.0/debug_token?input_token=${TOKEN}`);
    expect(request.headers.authorization).toBe(`Bearer ${app.appId}|s3cret`);
  });
  const table: Array<[string, string | undefined]> = [
    ["without an app secret", undefined],
    ["with the app secret's proof", "s3cret"],
  ];
  it.each(table)("lists businesses and a business's pixels %s", (_name, appSecret) => {
    const access = { graphUrl: "https://graph.facebook.com", apiVersion: "v26.0", appSecret };
    for (const [request, path] of [
      [businessesRequest(access, TOKEN), "/v26.0/me/businesses"],
      [businessPixelsRequest(access, TOKEN, "900000000000001"), "/v26.0/900000000000001/adspixels"],
    ] as const) {
      const url = new URL(request.url);
      expect(url.pathname).toBe(path);
      expect(url.searchParams.get("fields")).toBe("id,name");
      expect(url.searchParams.get("limit")).toBe(String(MAX_LISTED));
      expect(url.searchParams.get("access_token")).toBeNull();
      expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(url.searchParams.get("appsecret_proof")).toBe(
        appSecret ? createHmac("sha256", appSecret).update(TOKEN).digest("hex") : null,
      );
    }
  });
  it("refuses a business id that is not a number (it becomes a path)", () => {
    expect(() => businessPixelsRequest({ graphUrl: "https://g", apiVersion: "v26.0" }, TOKEN, "../me")).toThrow(
      RangeError,
    );
  });
});

describe("readLoginCallback", () => {
  const table: Array<[string, Record<string, string>, LoginCallback]> = [
    ["a code", { code: "AQc", state: "s" }, { kind: "code", code: "AQc", state: "s" }],
    [
      "Cancel in the dialog",
      { error: "access_denied", error_reason: "user_denied", error_description: "Permissions error", state: "s" },
      { kind: "denied", state: "s" },
    ],
    ["user_denied alone", { error: "x", error_reason: "user_denied", state: "s" }, { kind: "denied", state: "s" }],
    [
      "another error of Meta's",
      { error: "server_error", error_reason: "temporarily", state: "s" },
      { kind: "refused", state: "s", reason: "server_error (temporarily)" },
    ],
    ["an error without a state", { error: "server_error" }, { kind: "refused", reason: "server_error" }],
    ["no state", { code: "AQc" }, { kind: "malformed" }],
    ["neither code nor error", { state: "s" }, { kind: "malformed" }],
    ["a state past its bound", { code: "AQc", state: "s".repeat(513) }, { kind: "malformed" }],
    ["a code past its bound", { code: "c".repeat(2049), state: "s" }, { kind: "malformed" }],
  ];
  it.each(table)("%s", (_name, query, expected) => {
    expect(readLoginCallback(new URLSearchParams(query))).toEqual(expected);
  });
});

describe("Meta's answers", () => {
  const ok = (body: unknown): MetaAnswer => ({ kind: "response", status: 200, body });
  it("reads a token exchange and refuses a token out of bounds", () => {
    const answer = { access_token: TOKEN, token_type: "bearer", expires_in: 5183944 };
    expect(readGraphAnswer(ok(answer), tokenExchangeAnswerSchema)).toEqual({ ok: true, value: answer });
    expect(readGraphAnswer(ok({ access_token: "E".repeat(2049) }), tokenExchangeAnswerSchema).ok).toBe(false);
  });
  it("cuts listings to MAX_LISTED entries and names to MAX_NAME_LENGTH, refusing ids that are not numbers", () => {
    const many = Array.from({ length: MAX_LISTED + 5 }, (_, i) => ({ id: String(1000000 + i), name: "n".repeat(300) }));
    const read = readGraphAnswer(ok({ data: many, paging: {} }), pixelsAnswerSchema);
    expect(read.ok && read.value.data.length).toBe(MAX_LISTED);
    expect(read.ok && read.value.data[0]!.name.length).toBe(MAX_NAME_LENGTH);
    expect(readGraphAnswer(ok({ data: [{ id: "abc", name: "x" }] }), businessesAnswerSchema).ok).toBe(false);
    expect(readGraphAnswer(ok({ data: [{ id: "12" }] }), businessesAnswerSchema)).toEqual({
      ok: true,
      value: { data: [{ id: "12", name: "" }] },
    });
  });
  const failures: Array<[string, MetaAnswer, "meta-unreachable" | "meta-refused"]> = [
    ["no answer", { kind: "transport", error: "timeout" }, "meta-unreachable"],
    ["a 500", { kind: "response", status: 500, body: "oops" }, "meta-unreachable"],
    [
      "a transient error",
      {
        kind: "response",
        status: 400,
        body: { error: { message: "x", type: "OAuthException", code: 2, is_transient: true } },
      },
      "meta-unreachable",
    ],
    [
      "a used code",
      {
        kind: "response",
        status: 400,
        body: { error: { message: "This authorization code has been used.", type: "OAuthException", code: 100 } },
      },
      "meta-refused",
    ],
    ["a 200 Meta never sends", ok({ nothing: true }), "meta-refused"],
  ];
  it.each(failures)("%s", (_name, answer, problem) => {
    const read = readGraphAnswer(answer, tokenExchangeAnswerSchema);
    expect(read.ok).toBe(false);
    expect(!read.ok && read.problem).toBe(problem);
  });
});

describe("tokenFacts", () => {
  const nowS = Math.floor(Date.now() / 1000);
  const facts = (data: Record<string, unknown>) =>
    tokenFacts(debugTokenAnswerSchema.parse({ data: { app_id: app.appId, is_valid: true, ...data } }), app.appId);
  const table: Array<[string, Record<string, unknown>, Date | null]> = [
    [
      "the token's end first",
      { expires_at: nowS + 60 * 86400, data_access_expires_at: nowS + 90 * 86400 },
      new Date((nowS + 60 * 86400) * 1000),
    ],
    [
      "the data access's end first",
      { expires_at: nowS + 60 * 86400, data_access_expires_at: nowS + 30 * 86400 },
      new Date((nowS + 30 * 86400) * 1000),
    ],
    [
      "a token that never expires, with a data access end",
      { expires_at: 0, data_access_expires_at: nowS + 90 * 86400 },
      new Date((nowS + 90 * 86400) * 1000),
    ],
    ["no end at all", { expires_at: 0 }, null],
  ];
  it.each(table)("%s", (_name, data, expiresAt) => {
    expect(facts(data)).toEqual({ ok: true, expiresAt });
  });
  it("refuses a token of another app, and one Meta says is not valid", () => {
    expect(tokenFacts(debugTokenAnswerSchema.parse({ data: { app_id: 42, is_valid: true } }), app.appId)).toMatchObject(
      {
        ok: false,
        problem: "wrong-app",
      },
    );
    expect(facts({ is_valid: false })).toMatchObject({ ok: false, problem: "meta-refused" });
  });
});

describe("LOGIN_PROBLEM_MESSAGES", () => {
  it.each(LOGIN_PROBLEMS)("%s: says what to do next", (problem) => {
    expect(LOGIN_PROBLEM_MESSAGES[problem]).toMatch(/Connect with Meta|Events Manager/);
  });
});
