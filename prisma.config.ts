// Prisma's native engines cannot be downloaded on our machines: the CLI runs on its
// WebAssembly schema engine with a driver adapter, and the two variables below point at any
// existing file so that it skips the download it would otherwise attempt.
import path from "node:path";
import { defineConfig } from "prisma/config";

process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.resolve("package.json");
process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= path.resolve("package.json");

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  async adapter() {
    const { PrismaPg } = await import("@prisma/adapter-pg");
    return new PrismaPg({ connectionString: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test" });
  },
});
