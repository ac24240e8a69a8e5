# One image for the app (serve, work, start) and the simulator (sim).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
USER node
ENTRYPOINT ["node", "bin/acronis-onboard.js"]
CMD ["start"]
