// Meta's error answers as the Graph API sends them, for the tables of the tests that classify them.
import type { MetaAnswer } from "./classify";

export const FAKE_FBTRACE_ID = "AbCdEf";

export const metaError = (
  status: number,
  code: number,
  error_subcode?: number,
  extra: Record<string, unknown> = {},
): MetaAnswer => ({
  kind: "response",
  status,
  body: {
    error: {
      message: "Invalid parameter",
      type: "OAuthException",
      code,
      ...(error_subcode === undefined ? {} : { error_subcode }),
      fbtrace_id: FAKE_FBTRACE_ID,
      ...extra,
    },
  },
});
