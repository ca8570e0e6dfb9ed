# Baton's image: the `baton` command (controller, speaker, chaos, demo) on
# Node.js, with the AF_PACKET addon. Two stages: build (compilers, dev
# dependencies) and runtime (production dependencies only, no build tools).
#
# The base is pinned to an exact Node.js release and Debian suite; pin the
# digest too when building with registry access (see README, "Image").

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /src
# node-gyp needs python3, make and a C compiler for native/af_packet.c.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts/build-native.sh scripts/
COPY native/ native/
# npm ci runs our own install script, which builds the addon against this Node's headers.
# npm can exit 0 without installing anything ("Exit handler never called!"): check that it did.
RUN npm ci --no-audit --no-fund && npm ls >/dev/null \
    && test -x node_modules/.bin/tsc && test -f native/build/Release/af_packet.node
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
# The project's own compiler, never a download: `npx tsc` would fetch a package named "tsc".
RUN node_modules/.bin/tsc -p tsconfig.build.json && test -f dist/src/cli/main.js
# npm prune leaves a scope's folder behind once its last package is gone (node_modules/@biomejs):
# drop empty folders so the runtime stage holds production packages and nothing else.
RUN npm prune --omit=dev --no-audit --no-fund && find node_modules -mindepth 1 -maxdepth 1 -type d -empty -delete \
    && test ! -e node_modules/typescript

FROM node:20.20.2-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules/ node_modules/
COPY --from=build /src/dist/src/ dist/src/
COPY --from=build /src/native/build/Release/af_packet.node native/build/Release/af_packet.node
# Unprivileged by default (the controller). The speaker's pod runs as root with every capability
# dropped but NET_RAW: a packet socket needs CAP_NET_RAW, which a non-root process cannot use
# without file capabilities (see charts/baton/templates/speaker-daemonset.yaml).
USER 65534:65534
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
