import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { maskSecrets } from './mask.js';

export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * bull-board at /admin/queues with every queue of the install, read-only: what it shows of job
 * data is masked, so an edit from it would write `[hidden]` over sealed values, and a retry of a
 * step belongs to the overview's Retry, which moves the customer in the store first. Its data,
 * return values and progress go through the masking formatters, and every answer of its API
 * through one more pass (logs, failure reasons, stack traces).
 */
/** `queues`: every data centre's step queue (docs/partners.md), the callbacks and the sweeps. */
export async function queueBoard(app: FastifyInstance, opts: { queues: readonly Queue[] }): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  const queues = opts.queues.map((queue) => {
    const adapter = new BullMQAdapter(queue, { readOnlyMode: true, description: describe(queue.name) });
    for (const field of ['data', 'returnValue', 'progress'] as const) adapter.setFormatter(field, maskSecrets);
    return adapter;
  });
  createBullBoard({
    queues,
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'acronis-onboard',
        miscLinks: [{ text: 'Onboarding overview', url: '/' }],
        hideDocsLink: true,
      },
      handlerHooks: { after: (_context, result) => maskSecrets(result) as typeof result },
    },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_BOARD_PATH });
}

const DESCRIPTIONS: Record<string, string> = {
  callbacks: 'batch callbacks to the webhook callback_url',
  reconcile: 'scheduled sweeps (RECONCILE_EVERY): one job per interval, its scheduler under Schedulers',
};

/** Another data centre's step queue is `onboarding.<its host-port>` (src/partners/partner-set.ts). */
const DATA_CENTRE_QUEUE = /^onboarding\.(.+)$/;

function describe(queueName: string): string {
  const dataCentre = DATA_CENTRE_QUEUE.exec(queueName)?.[1];
  if (dataCentre) return `onboarding steps of data centre ${dataCentre}, one job per customer and step`;
  return DESCRIPTIONS[queueName] ?? 'onboarding steps, one job per customer and step';
}
