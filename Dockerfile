# syntax=docker/dockerfile:1
# scopegate: OAuth 2.0 scope enforcement sidecar.
#   docker build --build-arg VERSION=0.1.0 -t scopegate:0.1.0 .
#   docker run --read-only -p 8080:8080 -p 9090:9090 -v $PWD/my-config:/etc/scopegate:ro scopegate:0.1.0
# Ports: 8080 proxy (listen), 9090 admin (/healthz /readyz /metrics). The baked config,
# deploy/docker/scopegate.yaml, binds both on 0.0.0.0; a mounted directory with your own
# scopegate.yaml replaces it (keep 0.0.0.0 there too). Multi-arch: deploy/README.md, "Container image".

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
# The release version (tag without "v") and commit, set by .github/workflows/image.yml.
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="scopegate" \
      org.opencontainers.image.description="OAuth 2.0 scope enforcement sidecar" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/scopegate/scopegate"
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY deploy/docker/scopegate.yaml /etc/scopegate/scopegate.yaml
# nonroot = uid 65532. Nothing is written to disk at runtime, so --read-only works.
USER 65532:65532
EXPOSE 8080 9090
STOPSIGNAL SIGTERM
# distroless's entrypoint is node itself.
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli.js", "serve", "--config", "/etc/scopegate/scopegate.yaml"]
