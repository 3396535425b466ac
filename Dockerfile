# SmarterRouter: multi-stage build, non-root runtime, health-checked, data on a volume.
# Build: docker build -t smarterrouter .   Run: see docker-compose.yml and the README.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# sqlite3 builds from source (its prebuilt download is not used): needs a toolchain in this stage only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
# Compile to JavaScript (dist/) here: the build needs only esbuild, which the production install has
# (through tsx), so no dev dependencies enter the image. The runtime stage gets dist/, not src/.
COPY scripts/build.mjs ./scripts/build.mjs
COPY gen ./gen
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    ROUTER_HOST=0.0.0.0 \
    ROUTER_PORT=11436 \
    ROUTER_DATABASE_URL=sqlite:////app/data/router.db
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
# dist/ holds the compiled CLI too (bin/ and src/ are not shipped):
#   docker compose exec smarterrouter node dist/src/cli/run.js stats
COPY --from=build /app/dist ./dist
COPY package.json package-lock.json ./
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 11436
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.ROUTER_PORT || 11436) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node directly (not npm start) so SIGTERM reaches the router and it drains in-flight requests; the
# same command as the "start" script in package.json (compiled JavaScript, no tsx at run time; the
# smaller young generation saves ~17 MB of idle RSS, see docs/performance.md "Where the memory goes").
CMD ["node", "--max-semi-space-size=8", "dist/src/main.js"]
