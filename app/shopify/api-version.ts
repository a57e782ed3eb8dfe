// The Admin API version of this app, in one place: app/shopify.server.ts gives it to Shopify's
// library, and shopify.app.toml's [webhooks] api_version must name the same (app/config/
// shopify-app-toml.test.ts), so that webhook payloads have the shape the schemas read.
import { ApiVersion } from "@shopify/shopify-api";

export const SHOPIFY_API_VERSION = ApiVersion.October26;
