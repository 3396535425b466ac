# SmarterRouter: multi-stage build, non-root runtime, health-checked, data on a volume.
# Build: docker build -t smarterrouter .   Run: see docker-compose.yml and the README.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# sqlite3 builds from source (its prebuilt download is not used): needs a toolchain in this stage only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    ROUTER_HOST=0.0.0.0 \
    ROUTER_PORT=11436 \
    ROUTER_DATABASE_URL=sqlite:////app/data/router.db
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY gen ./gen
COPY src ./src
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 11436
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.ROUTER_PORT || 11436) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node directly (not npm start) so SIGTERM reaches the router and it drains in-flight requests.
CMD ["node", "--import", "tsx", "src/main.ts"]
