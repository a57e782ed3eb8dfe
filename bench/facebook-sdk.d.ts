// Meta's SDK ships no types; the benchmark uses it only as a baseline.
declare module "facebook-nodejs-business-sdk";
