# jitsync: build the TypeScript, then run on a slim Node 20 image as a non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# `npm install` installs the lockfile's versions; the lockfile lists only linux-x64's optional
# native packages (see .ci/run), which `npm ci` would refuse.
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY daemon daemon
COPY connectors connectors
COPY store store
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json jitsync.example.yaml ./
COPY examples examples
RUN mkdir -p /data && chown node:node /data
USER node
# Inside a container the config must listen on 0.0.0.0:8787 (loopback is the default outside).
EXPOSE 8787
VOLUME ["/data"]
ENTRYPOINT ["node", "--v8-pool-size=1", "dist/daemon/cli.js"]
CMD ["serve", "--config", "/etc/jitsync/jitsync.yaml"]
