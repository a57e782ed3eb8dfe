// Builds the theme app embed's storefront script: extensions/embed-source/capi-relay.cjs,
// minified by esbuild, into extensions/capi-relay-embed/assets/capi-relay.js (the file the
// block's "javascript" loads). `shopify app deploy` uploads theme assets as they are, with no
// build step of its own, so the output is committed; extensions/embed-build.test.ts fails when
// it differs from a fresh build or exceeds theme-check's 10 KB. Run: npm run build:embed.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE = path.join(HERE, "capi-relay.cjs");
export const ASSET = path.resolve(HERE, "../capi-relay-embed/assets/capi-relay.js");

/** The minified asset for a source text: ES5-level syntax as written, so every browser runs it. */
export async function buildEmbed(source = readFileSync(SOURCE, "utf8")) {
  const result = await transform(source, {
    loader: "js",
    minify: true,
    target: "es2015",
    legalComments: "none",
    charset: "utf8",
    dropLabels: ["EXPORTS"],
  });
  return `/* built from extensions/embed-source (npm run build:embed) */\n${result.code}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await buildEmbed();
  writeFileSync(ASSET, code);
  process.stdout.write(`${path.relative(process.cwd(), ASSET)}: ${readFileSync(ASSET).length} bytes\n`);
}
