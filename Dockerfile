# syntax=docker/dockerfile:1.7
#
# One parameterised image for every CryptoCare service:
#   docker build --build-arg SERVICE=payment -t cryptocare/payment .
# SERVICE is one of: gateway identity search appointment payment video.
#
# Stages:
#   build     full `npm install` of the lockfile's versions (cached on the manifests), the code generation (ts-proto + Prisma clients),
#             then `npm run build -w services/$SERVICE`: esbuild bundles dist/main.js and
#             dist/migrate.js, with the service's Prisma migrations copied to dist/prisma/migrations.
#   prod-deps `npm install --omit=dev` limited to the service's workspace: what stays external to the bundle
#             (native modules such as argon2) comes from here, with no dev dependency.
#   runtime   distroless Node LTS, no shell, no package manager, non-root (65532), tini as PID 1.
#             The root filesystem is read-only on Kubernetes; only /tmp (an emptyDir) is writable.
#
# Migrations are not run at start: the chart runs `node dist/migrate.js` as a Helm pre-install /
# pre-upgrade Job with this same image.

# The Node of .node-version (deploy/test checks they agree). Distroless publishes the major only:
# pin the runtime by digest when promoting an image (skaffold does outside dev).
ARG NODE_VERSION=24.22.3
ARG NODE_MAJOR=24
ARG BUILD_IMAGE=node:${NODE_VERSION}-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs${NODE_MAJOR}-debian12:nonroot

# ---------------------------------------------------------------------------------------------------
FROM ${BUILD_IMAGE} AS base
# tini-static is copied into the runtime image (which has no package manager); the compilers are only
# a fallback for native modules without a prebuilt binary for this platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV CI=true \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1
WORKDIR /src

# Manifests only (every workspace's package.json, the lockfile, the postinstall script), so that the
# dependency layers stay cached while only sources change.
FROM ${BUILD_IMAGE} AS manifests
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/gen.mjs scripts/gen.mjs
COPY libs/ /tmp/libs/
COPY services/ /tmp/services/
COPY web/package.json web/package.json
RUN set -eu; \
    for d in /tmp/libs/* /tmp/services/*; do \
      rel="${d#/tmp/}"; mkdir -p "$rel"; cp "$d/package.json" "$rel/package.json"; \
    done

# ---------------------------------------------------------------------------------------------------
FROM base AS build
COPY --from=manifests /src/ ./
# All dependencies (dev included: esbuild, ts-proto, prisma, buf), shared by the six builds. Install
# scripts are skipped: the build needs no native module (they stay external to the bundle) and the
# code generation runs below, once the sources are there.
# (npm install with the lockfile rather than npm ci: npm 11 records no other platforms' optional
# packages and `npm ci` then refuses the lockfile; see the Makefile.)
RUN --mount=type=cache,target=/root/.npm npm install --no-save --ignore-scripts
COPY scripts/ scripts/
COPY proto/ proto/
COPY libs/ libs/
COPY services/ services/
# The Kafka topics each service consumes: one list for the chart and the code, bundled into dist/main.js.
COPY charts/cryptocare/files/consumers.json charts/cryptocare/files/consumers.json
COPY web/ web/
COPY tsconfig.base.json tsconfig.json ./
# Code generation (ts-proto contracts, Prisma clients: what `npm install` runs as postinstall), shared too.
RUN npm run gen
# The service's bundle: dist/main.js, dist/migrate.js and dist/prisma/migrations.
ARG SERVICE
RUN test -n "$SERVICE" || (echo "build-arg SERVICE is required (gateway|identity|search|appointment|payment|video)" >&2; exit 1)
# The gateway also serves the web client (web/dist, its default WEB_ROOT).
RUN mkdir -p web/dist && if [ "$SERVICE" = gateway ]; then npm run build -w web; fi
RUN npm run build -w "services/${SERVICE}" \
 && test -f "services/${SERVICE}/dist/main.js" \
 && mkdir -p "services/${SERVICE}/dist/prisma/migrations"

# ---------------------------------------------------------------------------------------------------
FROM base AS prod-deps
ARG SERVICE
COPY --from=manifests /src/ ./
# Only the service's production dependency tree; install scripts run so native modules (argon2) pick
# their prebuilt binary. The root postinstall (code generation) skips itself without the dev tools.
RUN --mount=type=cache,target=/root/.npm \
    npm install --no-save --omit=dev --workspace "services/${SERVICE}" --include-workspace-root=false \
 && mkdir -p "services/${SERVICE}/node_modules" node_modules \
 && rm -rf node_modules/.cache

# ---------------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
ARG SERVICE
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="cryptocare-${SERVICE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/cryptocare/cryptocare"
ENV NODE_ENV=production \
    SERVICE_NAME=${SERVICE} \
    PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin \
    NODE_OPTIONS=--enable-source-maps

COPY --from=build /usr/bin/tini-static /usr/local/bin/tini
WORKDIR /app
COPY --from=prod-deps --chown=0:0 /src/node_modules/ ./node_modules/
COPY --from=prod-deps --chown=0:0 /src/services/${SERVICE}/node_modules/ ./services/${SERVICE}/node_modules/
COPY --from=build --chown=0:0 /src/services/${SERVICE}/package.json ./services/${SERVICE}/package.json
COPY --from=build --chown=0:0 /src/services/${SERVICE}/dist/ ./services/${SERVICE}/dist/
COPY --from=build --chown=0:0 /src/web/dist/ ./web/dist/
WORKDIR /app/services/${SERVICE}

# Files are owned by root and read-only to the process; it runs as the distroless nonroot user.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/tini", "--"]
CMD ["node", "dist/main.js"]
