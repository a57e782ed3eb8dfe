// Where the token vault's key comes from: ENCRYPTION_KEY, or on embedded defaults (no
// DATABASE_URL) a key generated once into the data folder, so a fresh machine just runs.
// During a rotation ENCRYPTION_KEY_PREVIOUS still opens what the old key sealed.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { env } from "../config/env.server";
import { parseVaultKey, type VaultKeys } from "./token-vault";

let key: Buffer | undefined;

export function vaultKey(): Buffer {
  if (key) return key;
  const { ENCRYPTION_KEY, DATABASE_URL, DATA_DIR } = env();
  if (ENCRYPTION_KEY) return (key = parseVaultKey(ENCRYPTION_KEY));
  if (DATABASE_URL) throw new Error("ENCRYPTION_KEY is required when DATABASE_URL is set (32 bytes, hex or base64)");
  const file = path.resolve(DATA_DIR, "encryption.key");
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString("hex"), { mode: 0o600 });
  }
  return (key = parseVaultKey(readFileSync(file, "utf8")));
}

/** The current key and, while a rotation is under way, the previous one. */
export function vaultKeys(): VaultKeys {
  const previous = env().ENCRYPTION_KEY_PREVIOUS;
  return { current: vaultKey(), ...(previous ? { previous: parseVaultKey(previous) } : {}) };
}
