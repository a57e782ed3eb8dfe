// Meta Graph API requests, built without sending: batching decisions and request shapes.
import { createHmac } from "node:crypto";
import { DEFAULT_API_VERSION } from "./api-version";
import type { MetaEvent } from "./event";

export const MAX_EVENTS_PER_REQUEST = 1000;
export const DEFAULT_GRAPH_URL = "https://graph.facebook.com";
/** Identifies our integration to Meta, as partner platforms do. */
export const PARTNER_AGENT = "capirelay-shopify";

export interface Destination {
  pixelId: string;
  accessToken: string;
  apiVersion?: string;
  /** When set, every request carries appsecret_proof (required by apps that enforce it). */
  appSecret?: string;
}

export interface RequestBody {
  data: MetaEvent[];
  test_event_code?: string;
  partner_agent?: string;
  appsecret_proof?: string;
}

export interface GraphRequest {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
}

/** `POST /{version}/{pixel}/events`. */
export interface EventsRequest extends GraphRequest {
  method: "POST";
  body: string;
}

/** The fields the connection check reads of the pixel (dataset) node. */
export const PIXEL_READ_FIELDS = ["id", "name"] as const;

/** The JSON body of one request; the CLI prints exactly this. */
export function requestBody(events: MetaEvent[], testEventCode?: string): RequestBody {
  if (events.length === 0 || events.length > MAX_EVENTS_PER_REQUEST) {
    throw new RangeError(`a request holds 1 to ${MAX_EVENTS_PER_REQUEST} events, not ${events.length}`);
  }
  return {
    data: events,
    ...(testEventCode ? { test_event_code: testEventCode } : {}),
    partner_agent: PARTNER_AGENT,
  };
}

export function appSecretProof(accessToken: string, appSecret: string): string {
  return createHmac("sha256", appSecret).update(accessToken).digest("hex");
}

/**
 * A ready-to-send request. The token goes in the Authorization header, never in the URL, so
 * that it cannot leak into proxy or access logs.
 */
export function graphRequest(
  destination: Destination,
  events: MetaEvent[],
  options: { testEventCode?: string; graphUrl?: string } = {},
): EventsRequest {
  const body = requestBody(events, options.testEventCode);
  if (destination.appSecret) body.appsecret_proof = appSecretProof(destination.accessToken, destination.appSecret);
  return {
    url: `${pixelNodeUrl(destination, options.graphUrl)}/events`,
    method: "POST",
    headers: { authorization: `Bearer ${destination.accessToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

function pixelNodeUrl(destination: Destination, graphUrl = DEFAULT_GRAPH_URL): string {
  const base = graphUrl.replace(/\/+$/, "");
  const version = destination.apiVersion ?? DEFAULT_API_VERSION;
  return `${base}/${version}/${encodeURIComponent(destination.pixelId)}`;
}

/**
 * `GET /{version}/{pixel}?fields=id,name`: the connection check. Reading the pixel (dataset)
 * node takes what sending its events takes: a token that reaches this pixel, and the app's
 * appsecret_proof when the app enforces it. The token goes in the Authorization header as for
 * events; the proof (a GET has no body) in the query, where Meta reads it too.
 */
export function pixelReadRequest(destination: Destination, options: { graphUrl?: string } = {}): GraphRequest {
  const query = new URLSearchParams({ fields: PIXEL_READ_FIELDS.join(",") });
  if (destination.appSecret)
    query.set("appsecret_proof", appSecretProof(destination.accessToken, destination.appSecret));
  return {
    url: `${pixelNodeUrl(destination, options.graphUrl)}?${query.toString()}`,
    method: "GET",
    headers: { authorization: `Bearer ${destination.accessToken}` },
  };
}

export interface Batchable {
  pixelId: string;
  testEventCode?: string;
}

/**
 * Groups events into requests: one pixel and one test code per request (test events must
 * never ride with production ones), at most 1,000 events each, in arrival order.
 */
export function planBatches<T extends Batchable>(items: T[], max = MAX_EVENTS_PER_REQUEST): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = `${item.pixelId}\u0000${item.testEventCode ?? ""}`;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  const batches: T[][] = [];
  for (const group of groups.values()) {
    for (let i = 0; i < group.length; i += max) batches.push(group.slice(i, i + max));
  }
  return batches;
}
