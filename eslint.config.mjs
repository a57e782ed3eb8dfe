// `npm run lint` (and .ci/run): typescript-eslint's recommended rules, without type
// information so that the whole tree lints in seconds, plus the layer boundaries of
// eslint.boundaries.mjs. Formatting is Prettier's business (`npm run format:check`).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** What the storefront scripts may use: they run in browsers and Shopify's web pixel sandbox. */
const BROWSER_GLOBALS = Object.fromEntries(
  ["window", "document", "navigator", "location", "URL", "URLSearchParams", "fetch", "atob", "btoa", "setTimeout", "clearTimeout", "console", "crypto", "TextEncoder", "module", "self"].map((name) => [name, "readonly"]),
);

export default tseslint.config(
  { ignores: ["node_modules/", "build/", "public/build/", "bench/out/", "data/", ".cache/", "extensions/*/dist/", "**/*.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A name that starts with _ is deliberately unused (a field left out of a rest spread).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true }],
    },
  },
  { files: ["extensions/**/*.js"], languageOptions: { globals: BROWSER_GLOBALS } },
  {
    // Tests, fixtures and benchmarks handle Shopify's payloads as the loose JSON they are;
    // the app's own code parses them with zod into real types.
    files: ["**/*.test.ts", "test/**", "bench/**", "demo/**", "sandbox/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
