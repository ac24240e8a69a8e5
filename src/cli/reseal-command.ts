import type { Command } from 'commander';
import { requireConfig } from '../config.js';
import { plural } from '../text/plural.js';
import { resealAll } from '../workers/reseal.js';
import { withApp } from './with-app.js';

/**
 * `acronis-onboard reseal` (docs/security.md "Rotating SECRETS_KEY"): with the new key in SECRETS_KEY and
 * the old one in SECRETS_KEY_PREVIOUS, seals every stored secret again with the new key. Exit 0
 * when nothing is left under the old key (SECRETS_KEY_PREVIOUS may go), 1 otherwise.
 */
export function registerResealCommand(program: Command): void {
  program
    .command('reseal')
    .description('seal every stored password, token and callback URL again with SECRETS_KEY (rotation)')
    .action(() =>
      withApp({}, async (app) => {
        requireConfig(app.config, ['SECRETS_KEY'], 'to reseal what is stored');
        const report = await resealAll({
          redis: app.redis,
          keys: app.keys,
          queues: app.queues,
          callbacks: app.callbacks,
          box: app.box,
        });
        console.log(
          `resealed ${plural(report.resealed, 'value')} with SECRETS_KEY; dropped ${plural(report.tokensDropped, 'cached access token')} (the next call issues one)`,
        );
        if (report.unreadable > 0)
          console.log(
            `${plural(report.unreadable, 'value')} open with neither SECRETS_KEY nor SECRETS_KEY_PREVIOUS; left as they are`,
          );
        if (report.keyCheckRenewed) {
          console.log('nothing is left under another key: SECRETS_KEY_PREVIOUS can be removed');
          return;
        }
        console.log(
          `${plural(report.left, 'value')} still under SECRETS_KEY_PREVIOUS (written by steps running meanwhile): run reseal again`,
        );
        process.exitCode = 1;
      }),
    );
}
