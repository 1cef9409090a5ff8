# syntax=docker/dockerfile:1
# scopegate: OAuth 2.0 scope enforcement sidecar.
#   docker build -t scopegate .
#   docker run --read-only -p 8080:8080 -p 9090:9090 -v $PWD/config:/etc/scopegate:ro scopegate
# Ports: 8080 proxy (listen), 9090 admin (/healthz /readyz /metrics). Set both in the config
# with host 0.0.0.0 inside a container (the bundled default binds 127.0.0.1).

# ---- build: compile TypeScript with dev dependencies ----
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
# --ignore-scripts: `prepare` would compile before src/ is copied; we build explicitly below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN npx tsc -p tsconfig.json

# ---- runtime dependencies only ----
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: distroless Node (no shell, no package manager), non-root ----
FROM gcr.io/distroless/nodejs22-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY config/scopegate.yaml /etc/scopegate/scopegate.yaml
# nonroot = uid 65532. Nothing is written to disk at runtime, so --read-only works.
USER 65532:65532
EXPOSE 8080 9090
STOPSIGNAL SIGTERM
# distroless's entrypoint is node itself.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli.js", "serve", "--config", "/etc/scopegate/scopegate.yaml"]
