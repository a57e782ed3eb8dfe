// Builds the theme app embed's storefront script: extensions/embed-source/capi-relay.cjs,
// minified by terser, into extensions/capi-relay-embed/assets/capi-relay.js (the file the
// block's "javascript" loads). `shopify app deploy` uploads theme assets as they are, with no
// build step of its own, so the output is committed; extensions/embed-build.test.ts fails when
// it differs from a fresh build or exceeds theme-check's 10 KB. Run: npm run build:embed.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";
import { minify } from "terser";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE = path.join(HERE, "capi-relay.cjs");
export const ASSET = path.resolve(HERE, "../capi-relay-embed/assets/capi-relay.js");

/** The minified asset for a source text: ES2015 syntax, which every browser a storefront serves runs. */
export async function buildEmbed(source = readFileSync(SOURCE, "utf8")) {
  // esbuild only drops the source's module.exports block (its EXPORTS label: terser has no
  // such option); terser then minifies, mangling more than esbuild does (about 800 bytes less).
  const stripped = await transform(source, {
    loader: "js",
    target: "es2015",
    legalComments: "none",
    charset: "utf8",
    dropLabels: ["EXPORTS"],
  });
  const result = await minify(stripped.code, {
    ecma: 2015,
    // unsafe_arrows turns a function expression into an arrow only when it reads neither
    // `this` nor `arguments`, and nothing in the script calls such a function with `new`.
    compress: { passes: 3, unsafe_arrows: true, unsafe_methods: true, hoist_vars: true },
    mangle: { toplevel: true },
    format: { comments: false },
  });
  return `/* built from embed-source: npm run build:embed */\n${result.code}`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await buildEmbed();
  writeFileSync(ASSET, code);
  process.stdout.write(`${path.relative(process.cwd(), ASSET)}: ${readFileSync(ASSET).length} bytes\n`);
}
