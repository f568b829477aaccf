# syntax=docker/dockerfile:1
# One image for every Glucoboard process: the server by default, the workers with
# `node --import tsx workers/src/main.ts` (see docker-compose.yml and docs/deployment.md).

# Debian, not Alpine: argon2 and msgpackr ship prebuilt glibc binaries, so nothing is compiled.
# Vite 7 needs Node >= 20.19, which the node:20 images carry.
ARG NODE_IMAGE=node:20-bookworm-slim

# --- deps: install every workspace from the lockfile ----------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# Only the manifests, so this layer is rebuilt only when dependencies change.
COPY package.json package-lock.json .npmrc ./
COPY core/package.json core/
COPY server/package.json server/
COPY workers/package.json workers/
COPY simulator/package.json simulator/
COPY web/package.json web/
COPY load/package.json load/
# devDependencies included on purpose: tsx runs the TypeScript at run time.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

# --- build: the SvelteKit SPA into web/build ---------------------------------------------------
FROM deps AS build
COPY . .
RUN npm run build -w web

# --- runtime -------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json /app/package-lock.json /app/tsconfig.json ./
# Whole workspace folders: any node_modules npm nested inside them comes along.
COPY --from=build /app/core ./core
COPY --from=build /app/server ./server
COPY --from=build /app/workers ./workers
COPY --from=build /app/simulator ./simulator
COPY --from=build /app/load ./load
# Of the web workspace only the built SPA is served; its sources and build tools stay behind.
COPY --from=build /app/web/package.json ./web/
COPY --from=build /app/web/build ./web/build
# Code stays root-owned (read-only to the app); only the data folder is the app's, for the
# embedded database when DATABASE_URL is unset.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
# No curl in the slim image: Node's own fetch probes the process. PORT as the server reads it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--import", "tsx", "server/src/main.ts"]
