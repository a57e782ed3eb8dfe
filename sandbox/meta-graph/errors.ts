// Meta's error answers, in the shape and with the wording the Graph API uses, so that the
// client's classifier is exercised against what it will really meet.
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

/** One rejection, before it is dressed as Meta's body. */
export interface MetaError {
  status: number;
  code: number;
  subcode?: number;
  message: string;
  /** Meta answers OAuthException for nearly everything; appsecret_proof and unknown objects are GraphMethodException. */
  type?: "OAuthException" | "GraphMethodException";
  title?: string;
  userMessage?: string;
  transient?: boolean;
}

export function fbtraceId(): string {
  return randomBytes(12).toString("base64url");
}

export function errorBody(e: MetaError): MetaErrorBody {
  return {
    error: {
      message: e.message,
      type: e.type ?? "OAuthException",
      code: e.code,
      ...(e.subcode === undefined ? {} : { error_subcode: e.subcode }),
      ...(e.title === undefined ? {} : { error_user_title: e.title }),
      ...(e.userMessage === undefined ? {} : { error_user_msg: e.userMessage }),
      fbtrace_id: fbtraceId(),
      is_transient: e.transient ?? false,
    },
  };
}

/** Counting key for statistics: "100/2804003", "190/460", "2". */
export function codeKey(e: Pick<MetaError, "code" | "subcode">): string {
  return e.subcode === undefined ? String(e.code) : `${e.code}/${e.subcode}`;
}

// Where the subcodes come from: 2804003 (too old) and 2804016 (not hashed, "User Parameter Not
// Hashed") appear in real answers quoted on public issue trackers (e.g. facebook-java-business-sdk
// #421); 2804019 is the "Server-side API parameter error" Meta gives for a missing field ("The
// parameter $['data'][0]['event_time'] is required."); 2804001 (malformed fbc) is from the
// project's reference notes. No source showed a subcode for a timestamp in the future: 2804004
// is this stand-in's own choice, so clients should treat it as any other code-100 rejection.
export const SUBCODE = {
  malformedFbc: 2804001,
  tooOld: 2804003,
  inFuture: 2804004,
  notHashed: 2804016,
  parameter: 2804019,
} as const;

export function invalidParameter(subcode: number, title: string, userMessage: string): MetaError {
  return { status: 400, code: 100, subcode, message: "Invalid parameter", title, userMessage };
}

/** The generic "Server-side API parameter error" Meta gives for a missing or unusable field. */
export function parameterError(userMessage: string): MetaError {
  return invalidParameter(SUBCODE.parameter, "Server-side API parameter error", userMessage);
}

export const noToken = (): MetaError => ({
  // Meta answers a request without any token with code 104, not 190.
  status: 400,
  code: 104,
  message: "An access token is required to request this resource.",
});

const TOKEN_MESSAGES: Record<460 | 463 | 467, string> = {
  460: "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
  463: "Error validating access token: Session has expired.",
  467: "Error validating access token: The session is invalid because the user logged out.",
};

export const tokenInvalid = (subcode: 460 | 463 | 467): MetaError => ({
  status: 400,
  code: 190,
  subcode,
  message: TOKEN_MESSAGES[subcode],
});

export const appsecretProofMissing = (): MetaError => ({
  status: 400,
  code: 100,
  type: "GraphMethodException",
  message: "API calls from the server require an appsecret_proof argument",
});

export const appsecretProofInvalid = (): MetaError => ({
  status: 400,
  code: 100,
  type: "GraphMethodException",
  message: "Invalid appsecret_proof provided in the API argument",
});

const SERVER_MESSAGES: Record<1 | 2, string> = {
  1: "An unknown error occurred",
  2: "An unexpected error has occurred. Please retry your request later.",
};

export const serverError = (status: number, code: 1 | 2): MetaError => ({
  status,
  code,
  message: SERVER_MESSAGES[code],
  transient: true,
});

export type RateLimitCode = 4 | 17 | 32 | 613 | 80003;
const RATE_MESSAGES: Record<RateLimitCode, string> = {
  4: "(#4) Application request limit reached",
  17: "(#17) User request limit reached",
  32: "(#32) Page request limit reached",
  613: "(#613) Calls to this api have exceeded the rate limit.",
  80003: "(#80003) There have been too many calls to this ad-account. Wait a bit and try again.",
};

export const rateLimited = (code: RateLimitCode): MetaError => ({
  status: 400,
  code,
  message: RATE_MESSAGES[code],
  transient: true,
});

export const unknownPath = (path: string): MetaError => ({
  status: 400,
  code: 2500,
  message: `Unknown path components: ${path}`,
});

export const unsupportedMethod = (method: string, pixelId: string): MetaError => ({
  status: 400,
  code: 100,
  subcode: 33,
  type: "GraphMethodException",
  message: `Unsupported ${method.toLowerCase()} request. Object with ID '${pixelId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
});

/**
 * A pixel id no object answers to, or one the token cannot load: Meta does not tell the two
 * apart ("does not exist, cannot be loaded due to missing permissions").
 */
export const objectNotFound = (method: string, id: string): MetaError => unsupportedMethod(method, id);

/** A token that is valid but not granted what the call needs (Meta's codes 10 and 200-299). */
export const permissionDenied = (): MetaError => ({
  status: 403,
  code: 200,
  message: "(#200) Permissions error",
});

export const nonexistingField = (field: string): MetaError => ({
  status: 400,
  code: 100,
  message: `(#100) Tried accessing nonexisting field (${field}) on node type (AdsPixel)`,
});
