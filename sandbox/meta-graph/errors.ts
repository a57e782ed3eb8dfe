// Meta's error answers, in the shape the Graph API gives them.
import { randomBytes } from "node:crypto";

export interface MetaErrorBody {
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    error_user_title?: string;
    error_user_msg?: string;
    fbtrace_id: string;
    is_transient: boolean;
  };
}

export interface SandboxError {
  status: number;
  code: number;
  subcode?: number;
  message: string;
  title?: string;
  userMessage?: string;
  transient?: boolean;
}

export function fbtraceId(): string {
  return randomBytes(8).toString("base64url");
}

export function errorBody(e: SandboxError): MetaErrorBody {
  return {
    error: {
      message: e.message,
      type: e.code === 190 || e.code === 100 ? "OAuthException" : "GraphMethodException",
      code: e.code,
      ...(e.subcode === undefined ? {} : { error_subcode: e.subcode }),
      ...(e.title ? { error_user_title: e.title } : {}),
      ...(e.userMessage ? { error_user_msg: e.userMessage } : {}),
      fbtrace_id: fbtraceId(),
      is_transient: e.transient ?? false,
    },
  };
}

export const invalidParameter = (subcode: number, title: string, userMessage: string): SandboxError => ({
  status: 400,
  code: 100,
  subcode,
  message: "Invalid parameter",
  title,
  userMessage,
});
