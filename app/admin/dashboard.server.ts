// What the admin page shows a shop: its Meta destinations, delivery statistics, recent events
// and settings. Plain functions of (prisma, shop): every query is filtered by that shop, and
// nothing returned here contains the access token or its ciphertext (it all goes to the
// browser). Results are JSON-safe: ids and dates as strings.
import type { PrismaClient } from "@prisma/client";
import { sumEventCounts } from "../pipeline/event-counts.server";
import { maskPayload } from "./mask";
import { storedSettings, type StoredSettings } from "../events/settings";
import { listDestinations, storedCheck } from "../pipeline/destinations.server";
import { tokenExpiry, type TokenExpiry } from "../meta/token-expiry";
import {
  EVENT_STATE_INFO,
  EVENT_STATES,
  isEventState,
  type EventState,
  type ReceiptOutcome,
} from "../pipeline/lifecycle";

export const DAY_MS = 24 * 60 * 60 * 1000;
export const RECENT_EVENTS_LIMIT = 50;
/** Held-back reasons listed one by one (most frequent first); the rest are only counted. */
export const HELD_BACK_REASONS_LIMIT = 10;

export interface DestinationView {
  id: string;
  pixelId: string;
  /** The merchant's name for it; null shows the pixel id. */
  label: string | null;
  /** The Meta events it receives. */
  events: string[];
  /** Whether Shopify test orders go to its test event code. */
  sendTestOrders: boolean;
  testEventCode: string | null;
  apiVersion: string;
  /** Whether an access token is stored; the token itself never leaves the server. */
  hasAccessToken: boolean;
  paused: boolean;
  pausedAt: string | null;
  pauseReason: string | null;
  pauseMessage: string | null;
  /** The last connection check of the stored pixel and token (app/meta/connection-check.ts); absent before the first. */
  check?: { status: string; message: string | null; checkedAt: string };
  testEventAt: string | null;
  testEventPixelId: string | null;
  /** facebook-login (Connect with Meta) or pasted-token; null on rows saved before it was recorded. */
  connectedVia: string | null;
  /** The token's end as of this load (app/meta/token-expiry.ts): the pages warn before it. */
  tokenExpiry: TokenExpiry;
  updatedAt: string;
}

/** The shop's destinations, oldest first (a token is always stored: saving one requires it). */
export async function loadDestinationViews(
  prisma: PrismaClient,
  shop: string,
  now: Date = new Date(),
): Promise<DestinationView[]> {
  const rows = await listDestinations(prisma, shop);
  return rows.map((row) => {
    const check = storedCheck(row);
    return {
      id: row.id,
      pixelId: row.pixelId,
      label: row.label,
      events: row.events,
      sendTestOrders: row.sendTestOrders,
      testEventCode: row.testEventCode,
      apiVersion: row.apiVersion,
      hasAccessToken: true,
      paused: row.pausedAt !== null,
      pausedAt: row.pausedAt?.toISOString() ?? null,
      pauseReason: row.pauseReason,
      pauseMessage: row.pauseMessage,
      ...(check
        ? { check: { status: check.status, message: check.message, checkedAt: check.checkedAt.toISOString() } }
        : {}),
      testEventAt: row.testEventAt?.toISOString() ?? null,
      testEventPixelId: row.testEventPixelId,
      connectedVia: row.connectedVia,
      tokenExpiry: tokenExpiry(row.tokenExpiresAt, now),
      updatedAt: row.updatedAt.toISOString(),
    };
  });
}

export type StateCounts = Record<EventState, number> & { total: number };

/**
 * Webhooks deliberately not sent (receipts `held_back`: a test order, a declined consent, the
 * shop's settings...). No event is stored for them, so they are counted from their receipts:
 * webhooks, not events (a held-back order's orders/create and orders/paid count once each).
 */
export interface HeldBackStats {
  last24h: number;
  last7d: number;
  /** The most frequent reasons of the 7 days, as recorded, most frequent first, with their count in each window. */
  reasons: Array<{ reason: string; last24h: number; last7d: number }>;
  /** Held back for the reasons not listed (beyond HELD_BACK_REASONS_LIMIT). */
  otherReasons: { last24h: number; last7d: number };
}

export interface WindowStats {
  counts: StateCounts;
  /**
   * Share of events that reached Meta among those no worker will move any more: sent / (the
   * final states + paused). Events still on their way (queued, sending, retrying) do not count,
   * nor do held-back webhooks, which never became events. Null when none qualify.
   */
  deliveryRate: number | null;
}

export interface DeliveryStats {
  last24h: WindowStats;
  last7d: WindowStats;
  heldBack: HeldBackStats;
}

function emptyCounts(): StateCounts {
  const counts = { total: 0 } as StateCounts;
  for (const state of EVENT_STATES) counts[state] = 0;
  return counts;
}

export function deliveryRate(counts: StateCounts): number | null {
  const settled = EVENT_STATES.filter((s) => EVENT_STATE_INFO[s].waitsFor !== "worker").reduce(
    (sum, s) => sum + counts[s],
    0,
  );
  return settled === 0 ? null : counts.sent / settled;
}

/** The shop's events by state, created since `since` (all of them without), from the rollup (../pipeline/event-counts.server.ts). */
export async function countEvents(prisma: PrismaClient, shop: string, since?: Date): Promise<StateCounts> {
  const groups = await sumEventCounts(prisma, shop, ["state"], { since });
  const counts = emptyCounts();
  for (const group of groups) {
    counts.total += group.count;
    if (isEventState(group.state)) counts[group.state] += group.count;
  }
  return counts;
}

/** The shop's held-back webhooks by reason, received since `since` (all of them without). */
export async function countHeldBack(prisma: PrismaClient, shop: string, since?: Date): Promise<Map<string, number>> {
  const groups = await prisma.webhookReceipt.groupBy({
    by: ["reason"],
    where: { shop, outcome: "held_back" satisfies ReceiptOutcome, ...(since ? { receivedAt: { gte: since } } : {}) },
    _count: { _all: true },
  });
  return new Map(groups.map((g) => [g.reason ?? "(no reason recorded)", g._count._all]));
}

const total = (counts: Map<string, number>) => [...counts.values()].reduce((sum, n) => sum + n, 0);

/** The reasons of `counts`, most frequent first, at most `limit` of them. */
export function topReasons(
  counts: Map<string, number>,
  limit = HELD_BACK_REASONS_LIMIT,
): Array<{ reason: string; count: number }> {
  return [...counts]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))
    .slice(0, limit);
}

async function windowStats(prisma: PrismaClient, shop: string, since: Date): Promise<WindowStats> {
  const counts = await countEvents(prisma, shop, since);
  return { counts, deliveryRate: deliveryRate(counts) };
}

async function heldBackStats(prisma: PrismaClient, shop: string, dayAgo: Date, weekAgo: Date): Promise<HeldBackStats> {
  const [day, week] = await Promise.all([countHeldBack(prisma, shop, dayAgo), countHeldBack(prisma, shop, weekAgo)]);
  const reasons = topReasons(week).map(({ reason, count }) => ({
    reason,
    last24h: day.get(reason) ?? 0,
    last7d: count,
  }));
  const listed = (window: "last24h" | "last7d") => reasons.reduce((sum, r) => sum + r[window], 0);
  return {
    last24h: total(day),
    last7d: total(week),
    reasons,
    otherReasons: { last24h: total(day) - listed("last24h"), last7d: total(week) - listed("last7d") },
  };
}

/** Events created in the last 24 hours and 7 days, counted by state; webhooks held back in each, by reason. */
export async function loadDeliveryStats(
  prisma: PrismaClient,
  shop: string,
  now: Date = new Date(),
): Promise<DeliveryStats> {
  const dayAgo = new Date(now.getTime() - DAY_MS);
  const weekAgo = new Date(now.getTime() - 7 * DAY_MS);
  const [last24h, last7d, heldBack] = await Promise.all([
    windowStats(prisma, shop, dayAgo),
    windowStats(prisma, shop, weekAgo),
    heldBackStats(prisma, shop, dayAgo, weekAgo),
  ]);
  return { last24h, last7d, heldBack };
}

export interface EventTransitionView {
  at: string;
  state: string;
  detail: string | null;
}

export interface EventView {
  id: string;
  eventName: string;
  eventId: string;
  topic: string;
  state: string;
  attempts: number;
  reasonCode: string | null;
  reason: string | null;
  fbtraceId: string | null;
  testEventCode: string | null;
  createdAt: string;
  /** The Meta event as sent (hashed user data), its IP and user agent masked (./mask.ts). */
  payload: unknown;
  /** Oldest first: how the event got to its state, with Meta's answers. */
  history: EventTransitionView[];
}

/** The shop's most recent events, newest first, with their payload and state history. */
export async function loadRecentEvents(
  prisma: PrismaClient,
  shop: string,
  limit: number = RECENT_EVENTS_LIMIT,
): Promise<EventView[]> {
  const rows = await prisma.event.findMany({
    where: { shop },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit,
    select: {
      id: true,
      eventName: true,
      eventId: true,
      topic: true,
      state: true,
      attempts: true,
      reasonCode: true,
      reason: true,
      fbtraceId: true,
      testEventCode: true,
      createdAt: true,
      payload: true,
      history: { orderBy: [{ at: "asc" }, { id: "asc" }], select: { at: true, state: true, detail: true } },
    },
  });
  return rows.map((row) => ({
    id: row.id.toString(),
    eventName: row.eventName,
    eventId: row.eventId,
    topic: row.topic,
    state: row.state,
    attempts: row.attempts,
    reasonCode: row.reasonCode,
    reason: row.reason,
    fbtraceId: row.fbtraceId,
    testEventCode: row.testEventCode,
    createdAt: row.createdAt.toISOString(),
    payload: maskPayload(row.payload ?? null),
    history: row.history.map((t) => ({ at: t.at.toISOString(), state: t.state, detail: t.detail })),
  }));
}

export async function loadShopSettings(prisma: PrismaClient, shop: string): Promise<StoredSettings> {
  const row = await prisma.shop.findUnique({ where: { shop }, select: { settings: true } });
  return storedSettings(row?.settings);
}

export interface Dashboard {
  shop: string;
  destinations: DestinationView[];
  stats: DeliveryStats;
  events: EventView[];
  settings: StoredSettings;
}

export async function loadDashboard(prisma: PrismaClient, shop: string, now: Date = new Date()): Promise<Dashboard> {
  const [destinations, stats, events, settings] = await Promise.all([
    loadDestinationViews(prisma, shop),
    loadDeliveryStats(prisma, shop, now),
    loadRecentEvents(prisma, shop),
    loadShopSettings(prisma, shop),
  ]);
  return { shop, destinations, stats, events, settings };
}
