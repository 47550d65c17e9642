# jitsync: build the TypeScript on Node 24 LTS, then run it on a slim Node 24 image as a non-root
# user. Installed in /opt/jitsync, as the systemd unit expects (deploy/jitsync.service).
FROM node:24-bookworm-slim AS build
WORKDIR /opt/jitsync
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY daemon daemon
COPY connectors connectors
COPY store store
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /opt/jitsync
ENV NODE_ENV=production
COPY --from=build /opt/jitsync/node_modules node_modules
COPY --from=build /opt/jitsync/dist dist
COPY package.json jitsync.example.yaml ./
COPY examples examples
COPY deploy/healthcheck.mjs deploy/healthcheck.mjs
# The default config: absolute paths only (state in /data, the demo directory in the image), and
# listening on 0.0.0.0:8787. Mount your own over it; the tokens come from the environment.
COPY deploy/jitsync.container.yaml /etc/jitsync/jitsync.yaml
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8787
VOLUME ["/data"]
# /readyz through node: the image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/opt/jitsync/deploy/healthcheck.mjs", "http://127.0.0.1:8787/readyz"]
# One V8 helper thread: see docs/architecture.md.
ENTRYPOINT ["node", "--v8-pool-size=1", "dist/daemon/cli.js"]
CMD ["serve", "--config", "/etc/jitsync/jitsync.yaml"]
