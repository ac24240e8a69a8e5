import { redactUrl } from '../redis/connection.js';

/** Why the demo cannot run here; each says what to do instead (exit 2). */
export class RedisNotFoundError extends Error {
  constructor(readonly url: string) {
    super(
      `no Redis answers at ${redactUrl(url)} and redis-server is not installed: start one with ` +
        '`docker compose up -d redis`, or install it (apt install redis-server, brew install redis), or set REDIS_URL',
    );
    this.name = 'RedisNotFoundError';
  }
}

export class DemoRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoRefusedError';
  }
}
