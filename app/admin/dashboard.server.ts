// What the admin page shows a shop: its Meta destination, delivery statistics, recent events
// and settings. Plain functions of (prisma, shop): every query is filtered by that shop, and
// nothing returned here contains the access token or its ciphertext (it all goes to the
// browser). Results are JSON-safe: ids and dates as strings.
import type { PrismaClient } from "@prisma/client";
import { maskPayload } from "./mask";
import { storedSettings, type StoredSettings } from "../events/settings";

export const DAY_MS = 24 * 60 * 60 * 1000;
export const RECENT_EVENTS_LIMIT = 50;

/** Every state an Event row can be in (app/pipeline/schedule.ts plus `skipped`). */
export const EVENT_STATES = ["queued", "sending", "sent", "retrying", "paused", "rejected", "expired", "skipped"] as const;
export type EventStateName = (typeof EVENT_STATES)[number];

export interface DestinationView {
  pixelId: string;
  testEventCode: string | null;
  apiVersion: string;
  /** Whether an access token is stored; the token itself never leaves the server. */
  hasAccessToken: boolean;
  paused: boolean;
  pausedAt: string | null;
  pauseReason: string | null;
  pauseMessage: string | null;
  updatedAt: string;
}

export async function loadDestinationView(prisma: PrismaClient, shop: string): Promise<DestinationView | null> {
  const row = await prisma.destination.findUnique({
    where: { shop },
    select: {
      pixelId: true,
      testEventCode: true,
      apiVersion: true,
      // Read only to tell whether a token is stored; never copied into the result.
      accessTokenEnc: true,
      pausedAt: true,
      pauseReason: true,
      pauseMessage: true,
      updatedAt: true,
    },
  });
  if (!row) return null;
  return {
    pixelId: row.pixelId,
    testEventCode: row.testEventCode,
    apiVersion: row.apiVersion,
    hasAccessToken: row.accessTokenEnc.length > 0,
    paused: row.pausedAt !== null,
    pausedAt: row.pausedAt?.toISOString() ?? null,
    pauseReason: row.pauseReason,
    pauseMessage: row.pauseMessage,
    updatedAt: row.updatedAt.toISOString(),
  };
}

export type StateCounts = Record<EventStateName, number> & { total: number };

export interface WindowStats {
  counts: StateCounts;
  /**
   * Share of events that reached Meta among those whose delivery is settled or stuck: sent /
   * (sent + rejected + expired + paused). Events still on their way (queued, sending,
   * retrying) and those deliberately not sent (skipped) do not count. Null when none qualify.
   */
  deliveryRate: number | null;
}

export interface DeliveryStats {
  last24h: WindowStats;
  last7d: WindowStats;
}

function emptyCounts(): StateCounts {
  const counts = { total: 0 } as StateCounts;
  for (const state of EVENT_STATES) counts[state] = 0;
  return counts;
}

export function deliveryRate(counts: StateCounts): number | null {
  const settled = counts.sent + counts.rejected + counts.expired + counts.paused;
  return settled === 0 ? null : counts.sent / settled;
}

async function windowStats(prisma: PrismaClient, shop: string, since: Date): Promise<WindowStats> {
  const groups = await prisma.event.groupBy({
    by: ["state"],
    where: { shop, createdAt: { gte: since } },
    _count: { _all: true },
  });
  const counts = emptyCounts();
  for (const group of groups) {
    const n = group._count._all;
    counts.total += n;
    if ((EVENT_STATES as readonly string[]).includes(group.state)) counts[group.state as EventStateName] += n;
  }
  return { counts, deliveryRate: deliveryRate(counts) };
}

/** Events created in the last 24 hours and 7 days, counted by state. */
export async function loadDeliveryStats(prisma: PrismaClient, shop: string, now: Date = new Date()): Promise<DeliveryStats> {
  const [last24h, last7d] = await Promise.all([
    windowStats(prisma, shop, new Date(now.getTime() - DAY_MS)),
    windowStats(prisma, shop, new Date(now.getTime() - 7 * DAY_MS)),
  ]);
  return { last24h, last7d };
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
export async function loadRecentEvents(prisma: PrismaClient, shop: string, limit: number = RECENT_EVENTS_LIMIT): Promise<EventView[]> {
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
  destination: DestinationView | null;
  stats: DeliveryStats;
  events: EventView[];
  settings: StoredSettings;
}

export async function loadDashboard(prisma: PrismaClient, shop: string, now: Date = new Date()): Promise<Dashboard> {
  const [destination, stats, events, settings] = await Promise.all([
    loadDestinationView(prisma, shop),
    loadDeliveryStats(prisma, shop, now),
    loadRecentEvents(prisma, shop),
    loadShopSettings(prisma, shop),
  ]);
  return { shop, destination, stats, events, settings };
}
