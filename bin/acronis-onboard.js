#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so `npx acronis-onboard` works right after
// `npm ci` with no build step; `npm run build` still emits dist/ for images that want plain JS.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
