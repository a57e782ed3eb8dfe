// A stand-in for the Admin API's web pixel operations, for tests (app/shopify and app/admin):
// one web pixel per shop, settings checked against the extension's [settings] fields (read
// from its shopify.extension.toml), the app installation's metafields, and the answers Shopify
// gives (userErrors TAKEN / NOT_FOUND / INVALID_SETTINGS, top-level ACCESS_DENIED, no answer).
// Also the shop's sales channels (publications of app catalogs), for Meta's own channel.
import { readFileSync } from "node:fs";
import type { AdminGraphql } from "./admin-graphql";

export interface FakeShopify extends AdminGraphql {
  pixel: { id: string; settings: string } | null;
  /** The app installation's metafields, by "namespace.key": value and type. */
  metafields: Map<string, { value: string; type: string }>;
  /** The web pixel operations called, in order. */
  calls: string[];
  /** The app installation and metafield operations called, in order. */
  metafieldCalls: string[];
  /** ACCESS_DENIED for the web pixel operations (write_pixels not granted; metafields of the app's own installation need no scope). */
  deny: boolean;
  unreachable: boolean;
  /** metafieldsSet answers with this userError. */
  refuseMetafields: boolean;
  /** The names of the shop's sales channels' publications (Publication.name), in Shopify's order. */
  salesChannels: string[];
  /** ACCESS_DENIED for `publications` (read_publications not granted). */
  denyPublications: boolean;
  /** The `publications` pages asked for, by their `after` cursor (null for the first). */
  publicationCalls: (string | null)[];
}

export const FAKE_APP_INSTALLATION_ID = "gid://shopify/AppInstallation/42";

/** The [settings.fields.<name>] of the web pixel extension, as Shopify reads them on deploy. */
export function extensionSettingFields(): string[] {
  const toml = readFileSync(
    new URL("../../extensions/capi-relay-pixel/shopify.extension.toml", import.meta.url),
    "utf8",
  );
  return [...toml.matchAll(/^\[settings\.fields\.([A-Za-z0-9_]+)\]/gm)].map((m) => m[1]!);
}

/** One shop's Admin API, as far as web pixels go. Settings are checked against the extension's fields. */
export function fakeShopify(existing: { id: string; settings: string } | null = null): FakeShopify {
  let next = 1;
  const state = {
    pixel: existing,
    metafields: new Map<string, { value: string; type: string }>(),
    calls: [] as string[],
    metafieldCalls: [] as string[],
    deny: false,
    unreachable: false,
    refuseMetafields: false,
    salesChannels: ["Online Store"],
    denyPublications: false,
    publicationCalls: [] as (string | null)[],
  };
  const fields = new Set(extensionSettingFields());
  // Every field is a single_line_text_field: a string, one line; pixelIds has min 1.
  const invalid = (settings: unknown) => {
    try {
      const parsed = JSON.parse(String(settings));
      return (
        typeof parsed.pixelIds !== "string" ||
        parsed.pixelIds.length < 1 ||
        Object.entries(parsed).some(([k, v]) => !fields.has(k) || typeof v !== "string" || /[\r\n]/.test(v))
      );
    } catch {
      return true;
    }
  };
  const handler = async (query: string, variables: Record<string, unknown>): Promise<unknown> => {
    const op =
      /\b(webPixelCreate|webPixelUpdate|webPixelDelete|webPixel|currentAppInstallation|metafieldsSet|metafieldsDelete|publications)\s*[({]/.exec(
        query,
      )![1]!;
    const pixelOp = op.startsWith("webPixel");
    if (op === "publications") fn.publicationCalls.push((variables.after as string | undefined) ?? null);
    else (pixelOp ? fn.calls : fn.metafieldCalls).push(op);
    if (fn.unreachable) throw new Error("getaddrinfo ENOTFOUND fake.myshopify.com");
    if (op === "publications") return publications(variables);
    if (fn.deny && pixelOp) {
      return {
        errors: [
          {
            message: `Access denied for ${op} field. Required access: \`write_pixels\` access scope.`,
            extensions: { code: "ACCESS_DENIED" },
          },
        ],
      };
    }
    const settings = (variables.webPixel as { settings?: unknown } | undefined)?.settings;
    const answer = (field: string, userErrors: unknown[], webPixel: unknown = null) => ({
      data: { [field]: { userErrors, webPixel } },
    });
    if (op === "webPixel") return { data: { webPixel: fn.pixel } };
    if (op === "webPixelDelete") {
      if (!fn.pixel || fn.pixel.id !== variables.id)
        return answer(op, [{ code: "NOT_FOUND", field: ["id"], message: "Web pixel not found." }]);
      fn.pixel = null;
      return { data: { webPixelDelete: { userErrors: [], deletedWebPixelId: variables.id } } };
    }
    if (op === "currentAppInstallation") return { data: { currentAppInstallation: { id: FAKE_APP_INSTALLATION_ID } } };
    if (op === "metafieldsSet" || op === "metafieldsDelete") {
      const inputs = variables.metafields as {
        ownerId: string;
        namespace: string;
        key: string;
        value?: string;
        type?: string;
      }[];
      const errors = inputs
        .filter((m) => m.ownerId !== FAKE_APP_INSTALLATION_ID)
        .map(() => ({ code: "INVALID", field: ["metafields", "0", "ownerId"], message: "Owner does not exist." }));
      if (op === "metafieldsSet") {
        for (const m of inputs)
          if (!m.value)
            errors.push({ code: "BLANK", field: ["metafields", "0", "value"], message: "Value can't be blank." });
        if (fn.refuseMetafields)
          errors.push({ code: "INVALID_VALUE", field: ["metafields"], message: "Value is invalid." });
        if (errors.length === 0)
          for (const m of inputs) fn.metafields.set(`${m.namespace}.${m.key}`, { value: m.value!, type: m.type! });
        return { data: { metafieldsSet: { metafields: errors.length ? null : inputs, userErrors: errors } } };
      }
      if (errors.length === 0) for (const m of inputs) fn.metafields.delete(`${m.namespace}.${m.key}`);
      return { data: { metafieldsDelete: { deletedMetafields: inputs, userErrors: errors } } };
    }
    if (invalid(settings))
      return answer(op, [{ code: "INVALID_SETTINGS", field: ["settings"], message: "Settings are invalid." }]);
    if (op === "webPixelCreate") {
      if (fn.pixel) return answer(op, [{ code: "TAKEN", field: ["webPixel"], message: "Web pixel is taken." }]);
      fn.pixel = { id: `gid://shopify/WebPixel/${next++}`, settings: String(settings) };
      return answer(op, [], fn.pixel);
    }
    if (!fn.pixel || fn.pixel.id !== variables.id)
      return answer(op, [{ code: "NOT_FOUND", field: ["id"], message: "Web pixel not found." }]);
    fn.pixel = { ...fn.pixel, settings: String(settings) };
    return answer(op, [], fn.pixel);
  };
  // Shopify's cursors are opaque; here a cursor is the index after the page's last node.
  const publications = (variables: Record<string, unknown>) => {
    if (fn.denyPublications)
      return {
        errors: [
          {
            message: "Access denied for publications field. Required access: `read_publications` access scope.",
            extensions: { code: "ACCESS_DENIED" },
          },
        ],
      };
    const first = Number(variables.first ?? 10);
    const start = variables.after ? Number(variables.after) : 0;
    const names = fn.salesChannels.slice(start, start + first);
    const end = start + names.length;
    return {
      data: {
        publications: {
          pageInfo: { hasNextPage: end < fn.salesChannels.length, endCursor: names.length ? String(end) : null },
          nodes: names.map((name) => ({ name })),
        },
      },
    };
  };
  const fn: FakeShopify = Object.assign(handler, state);
  return fn;
}
