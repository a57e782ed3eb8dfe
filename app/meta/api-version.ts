// Graph API versions, as they appear in request URLs. No server code here: the admin page's
// version picker (app/admin/options.ts) is bundled into the browser.

/** The version of a destination saved without one, and of requests that name none. */
export const DEFAULT_API_VERSION = "v26.0";

export const API_VERSION_PATTERN = /^v\d{2}\.0$/;
