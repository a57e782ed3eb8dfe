// A test event code from Events Manager's Test events tab (TEST12345): requests carrying one
// land there instead of in the pixel's data. Checked wherever a code enters, so that a typo
// never reaches Meta as a request it refuses.
export const TEST_EVENT_CODE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
