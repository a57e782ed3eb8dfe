// Remix v2, classic compiler. The server build is one ESM module (build/index.js) that
// server/main.ts loads; browser assets go to public/build/ and are served under /build/.
/** @type {import("@remix-run/dev").AppConfig} */
export default {
  ignoredRouteFiles: ["**/.*", "**/*.test.*"],
  serverModuleFormat: "esm",
  serverPlatform: "node",
  serverBuildPath: "build/index.js",
  assetsBuildDirectory: "public/build",
  publicPath: "/build/",
  // Packages whose published build Node's ESM loader cannot import as-is.
  serverDependenciesToBundle: [],
  future: {
    v3_fetcherPersist: true,
    v3_relativeSplatPath: true,
    v3_throwAbortReason: true,
    v3_lazyRouteDiscovery: true,
    // Kept off: loaders answer with json() and Shopify's auth throws plain Responses.
    v3_singleFetch: false,
  },
};
