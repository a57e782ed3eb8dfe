// The theme app embed's storefront script is built from extensions/embed-source/capi-relay.cjs
// (npm run build:embed) and committed, because `shopify app deploy` uploads theme assets as
// they are. This holds the committed asset to a fresh build of the source and to theme-check's
// AssetSizeAppBlockJavaScript limit (10 KB; the check measures the compressed size, the asset
// stays under 10 KB even uncompressed).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build script, outside the TypeScript project like extensions/
import { ASSET, SOURCE, buildEmbed } from "./embed-source/build.mjs";

const LIMIT_BYTES = 10_000;

describe("theme embed asset", () => {
  it("is the build of its source (run npm run build:embed after changing the source)", async () => {
    const built: string = await buildEmbed(readFileSync(SOURCE, "utf8"));
    expect(readFileSync(ASSET, "utf8") === built, "assets/capi-relay.js is stale: npm run build:embed").toBe(true);
  });

  it(`stays under ${LIMIT_BYTES} bytes, minified and compressed`, () => {
    const asset = readFileSync(ASSET);
    const gzipped = gzipSync(asset, { level: 9 }).byteLength;
    console.log(
      `capi-relay.js: source ${readFileSync(SOURCE).byteLength} B, minified ${asset.byteLength} B, gzip ${gzipped} B`,
    );
    expect(asset.byteLength).toBeLessThan(LIMIT_BYTES);
    expect(gzipped).toBeLessThan(asset.byteLength);
  });

  it("carries none of the source's test exports, and a broken source fails the build", async () => {
    const asset = readFileSync(ASSET, "utf8");
    expect(asset).not.toMatch(/module\.exports|EXPORTS/);
    await expect(buildEmbed("(function () { var = ; })();")).rejects.toThrow();
  });
});
