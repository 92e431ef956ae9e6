# One image for all three apps; docker-compose.yml picks the command.
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# All sources first: `npm ci` runs the root `prepare`, which builds the gateway into
# gateway/dist with esbuild (a dev dependency); the dev dependencies are pruned afterwards.
COPY . .
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production
RUN mkdir -p /data && chown node:node /data
USER node
