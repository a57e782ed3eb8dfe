# One image for both process types. The default command serves the app (web); the delivery
# worker is the same image with `server/worker.ts` as its command:
#   docker build -t capi-relay .
#   docker run --env-file prod.env -p 3000:3000 capi-relay                    # web
#   docker run --env-file prod.env capi-relay server/worker.ts                # worker
# PostgreSQL and Redis live outside the image; see README.md, "Running in production".

FROM node:22-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so that a code change does not reinstall them. `prisma generate` runs
# as the postinstall step and needs the schema and the Prisma config.
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
# The extensions are npm workspaces: npm ci needs their package.json files to match the lock.
COPY extensions/capi-relay-embed/package.json extensions/capi-relay-embed/
COPY extensions/capi-relay-pixel/package.json extensions/capi-relay-pixel/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Node itself with tsx's loader (not tsx's CLI, whose signal relay SIGKILLs a busy process):
# SIGTERM reaches the app, which finishes requests in flight and closes its database.
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["server/main.ts"]
