# One image for the app (serve, work, start) and the simulator (sim). It runs the compiled
# JavaScript: the first stage builds dist/, the second installs the runtime dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts/build.mjs ./scripts/
COPY src ./src
# `prepare` builds dist/.
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY --from=build /app/dist ./dist
# Profiles to point ONBOARDING_PROFILE at, and the sample CSVs (the demo's among them).
COPY profiles ./profiles
COPY examples ./examples
USER node
# Run through its #! line, which sets the heap flags (bin/acronis-onboard.js).
ENTRYPOINT ["/app/bin/acronis-onboard.js"]
CMD ["start"]
