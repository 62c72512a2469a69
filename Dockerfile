# The image that runs `coattail ingest` on ECS/Fargate (deploy/cloudformation/coattail.yaml).
#   docker build -t coattail-ingest .
# Build stage: compile the TypeScript with the dev dependencies. Final stage: the production dependencies,
# the compiled dist/src and bin/ only, run as the unprivileged `node` user (uid 1000) of the official image.

FROM node:20-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
# --ignore-scripts: compiling needs no native module, and no package's install script runs in the build.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

FROM node:20-slim
ENV NODE_ENV=production \
    NO_COLOR=1 \
    COATTAIL_LOG_FORMAT=json
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /build/dist/src ./dist/src
# The one place the process writes: trades it could not deliver are saved under ./.coattail/undelivered.
RUN mkdir -p /app/.coattail && chown 1000:1000 /app/.coattail
# uid and gid of the image's `node` user, numeric so a platform can check it is not root without /etc/passwd.
USER 1000:1000
# No HTTP endpoint to probe: the process is the health. It exits non-zero on a fatal error (ECS replaces
# the task); a silent feed is the stream's IncomingRecords alarm's job.
HEALTHCHECK NONE
# Exec form, no shell: node itself receives ECS's SIGTERM (or Ctrl-C's SIGINT under `docker run -it`),
# stops reading, flushes what it accepted within --shutdown-timeout (20 s), prints its summary and exits.
ENTRYPOINT ["node", "bin/coattail"]
CMD ["ingest"]
