// A Meta pixel (dataset) ID as Events Manager shows it. The storefront extensions carry their
// own copy of this rule (they are bundled apart from the app): keep them equal.
export const PIXEL_ID_PATTERN = /^\d{6,20}$/;
