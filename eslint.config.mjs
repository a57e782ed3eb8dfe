// `npm run lint` (and .ci/run): typescript-eslint's recommended rules, without type
// information so that the whole tree lints in seconds, and the layers' boundaries.
// Formatting is Prettier's business (`npm run format:check`).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** What the storefront scripts may use: they run in browsers and Shopify's web pixel sandbox. */
const BROWSER_GLOBALS = Object.fromEntries(
  [
    "window",
    "document",
    "navigator",
    "location",
    "URL",
    "URLSearchParams",
    "fetch",
    "atob",
    "btoa",
    "setTimeout",
    "clearTimeout",
    "console",
    "crypto",
    "TextEncoder",
    "module",
    "self",
  ].map((name) => [name, "readonly"]),
);

// Layers point one way: app/meta holds Meta's rules and knows nothing of Shopify or the shell;
// app/events maps Shopify to Meta without I/O; the shell (pipeline, routes, admin, db, cli,
// server/) imports them, never the reverse. Patterns are gitignore syntax against the
// specifier as written; `**/` catches a relative path from any depth.
const SHELL = [
  "**/pipeline/*",
  "**/routes/*",
  "**/db/*",
  "**/admin/*",
  "**/config/*",
  "**/cli/*",
  "**/demo/*",
  "**/server/*",
  "*.server",
  "@prisma/client",
  "@remix-run/*",
  "bullmq",
  "ioredis",
];
const restrict = (group, message) => ({ "no-restricted-imports": ["error", { patterns: [{ group, message }] }] });

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "build/",
      "public/build/",
      "bench/out/",
      "data/",
      ".cache/",
      "extensions/*/dist/",
      // Built from extensions/embed-source/ (npm run build:embed), minified.
      "extensions/capi-relay-embed/assets/",
      "**/*.d.ts",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A name that starts with _ is deliberately unused (a field left out of a rest spread).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ["app/meta/**"],
    ignores: ["**/*.test.ts"],
    rules: restrict(
      [...SHELL, "**/events/*", "**/shopify/*", "**/security/*"],
      "app/meta holds Meta's rules only: it imports nothing of Shopify, the event mapping or the shell.",
    ),
  },
  {
    files: ["app/events/**"],
    ignores: ["**/*.test.ts"],
    rules: restrict(
      SHELL,
      "app/events maps Shopify to Meta without I/O: it imports app/meta and app/shopify's payloads, never the shell.",
    ),
  },
  {
    // The billing rules (plans, usage, subscription states, the decision table) are pure; the
    // event states they count by are the pipeline's one vocabulary, itself pure.
    files: ["app/billing/**"],
    ignores: ["**/*.test.ts", "app/billing/*.server.ts"],
    rules: restrict(
      [...SHELL, "!**/pipeline/lifecycle"],
      "app/billing's rules are pure: the shell is app/billing/*.server.ts, which imports them, never the reverse.",
    ),
  },
  { files: ["extensions/**/*.js", "extensions/**/*.cjs"], languageOptions: { globals: BROWSER_GLOBALS } },
  {
    // Tests, fixtures and benchmarks handle Shopify's payloads as the loose JSON they are;
    // the app's own code parses them with zod into real types.
    files: ["**/*.test.ts", "test/**", "bench/**", "demo/**", "sandbox/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
