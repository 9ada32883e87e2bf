# The confcom image: the CLI, its services (serve attestation, serve opa) and the guest agent.
# Base: Node.js 24 (the current LTS line; Node 20 is past its end of life), Debian bookworm slim,
# pinned by digest. The digest is not written here because it could not be looked up offline when this
# file was made; pass the registry's digest for the tag, and the build refuses to run without it:
#   docker build --build-arg NODE_DIGEST="$(scripts/node-digest.sh)" -t ghcr.io/confcom/confcom:0.1.0 .
ARG NODE_TAG=24-bookworm-slim
ARG NODE_DIGEST

FROM docker.io/library/node:${NODE_TAG}@${NODE_DIGEST} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm ci --ignore-scripts && npm run build && npm prune --omit=dev

FROM docker.io/library/node:${NODE_TAG}@${NODE_DIGEST}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# A numeric non-root user, so runAsNonRoot can check it; the root filesystem may be read-only.
USER 10001:10001
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
