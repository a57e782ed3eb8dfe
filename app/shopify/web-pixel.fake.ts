// A stand-in for the Admin API's web pixel operations, for tests (app/shopify and app/admin):
// one web pixel per shop, settings checked against the extension's single field, and the
// answers Shopify gives (userErrors TAKEN / NOT_FOUND / INVALID_SETTINGS, top-level
// ACCESS_DENIED, no answer at all).
import type { AdminGraphql } from "./admin-graphql";

export interface FakeShopify extends AdminGraphql {
  pixel: { id: string; settings: string } | null;
  calls: string[];
  deny: boolean;
  unreachable: boolean;
}

/** One shop's Admin API, as far as web pixels go. Settings are checked against the extension's one field. */
export function fakeShopify(existing: { id: string; settings: string } | null = null): FakeShopify {
  let next = 1;
  const state = { pixel: existing, calls: [] as string[], deny: false, unreachable: false };
  const invalid = (settings: unknown) => {
    try {
      const parsed = JSON.parse(String(settings));
      return typeof parsed.pixelIds !== "string" || parsed.pixelIds.length < 1 || Object.keys(parsed).length !== 1;
    } catch {
      return true;
    }
  };
  const handler = async (query: string, variables: Record<string, unknown>): Promise<unknown> => {
    const op = /\b(webPixelCreate|webPixelUpdate|webPixel)\s*[({]/.exec(query)![1]!;
    fn.calls.push(op);
    if (fn.unreachable) throw new Error("getaddrinfo ENOTFOUND fake.myshopify.com");
    if (fn.deny) {
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
  const fn: FakeShopify = Object.assign(handler, state);
  return fn;
}
