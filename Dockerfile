# One image for all three apps; docker-compose.yml picks the command.
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY contracts/package.json contracts/
COPY firmware-protocol/package.json firmware-protocol/
COPY gateway/package.json gateway/
COPY hub/package.json hub/
COPY simulators/package.json simulators/
RUN npm ci --omit=dev --ignore-scripts=false
COPY contracts contracts
COPY firmware-protocol firmware-protocol
COPY gateway gateway
COPY hub hub
COPY simulators simulators

FROM node:24-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
ENV NODE_ENV=production
RUN mkdir -p /data && chown node:node /data
USER node
