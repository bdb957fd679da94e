# Runway API image: production dependencies installed in a stage of their own, the app compiled with the dev
# dependencies in another, and only the two results copied into the runtime stage, which runs as a non-root user.
# Docker Hub's official image through Amazon ECR Public: the pipeline's builds (CodeBuild) share addresses that reach
# Docker Hub's limit on anonymous pulls. For the same reason no `# syntax` line (its frontend image is on Docker Hub):
# the engine's own frontend builds this file (ADD --chmod: Docker 23 or later).
ARG NODE_IMAGE=public.ecr.aws/docker/library/node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY .swcrc tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY tools ./tools
COPY bench ./bench
COPY web ./web
RUN npm run build

# The app's files stay root's, readable by all: the user it runs as cannot rewrite its own code.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY --from=dependencies /app/package.json ./package.json
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/migrations ./dist/migrations
# The back office's static files (/admin/), built from web/.
COPY --from=build /app/dist/web ./dist/web
# The synthetic journey (fetch only): the pipeline runs it from this image after each deployment.
COPY --from=build /app/dist/tools/synthetics ./dist/tools/synthetics
# Amazon RDS's certificate authorities (every region), which verify Aurora's certificate: DB_SSL_MODE=verify-full with
# DB_SSL_CA_FILE in copilot/api/manifest.yml. From AWS at each build, as AWS adds a region's authority to the bundle.
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /app/certs/rds-global-bundle.pem
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# node is PID 1 and handles SIGTERM itself (graceful drain); the app starts no child processes to reap.
# V8 sizes its young generation from the memory it sees: 1 MiB semi-spaces in a 512 MiB task, which measured 1.7x the
# CPU per request of 8 MiB ones for 8 MiB less RSS (bench/README.md, "Memory").
CMD ["node", "--enable-source-maps", "--max-semi-space-size=8", "dist/src/main.js"]
