import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import type { BatchRecord } from '../workers/onboarding-store.js';
import { openPipeline } from '../workers/runtime.js';

/** `acronis-onboard status [BATCH]`: every recent batch, or one batch with its failed customers and why. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status [batch]')
    .description('show recent batches, or one batch: counts, and each failed customer with its step and reason')
    .option('--json', 'print JSON')
    .action(async (batchId: string | undefined, opts: { json?: boolean }) => {
      const pipeline = await openPipeline(loadConfig());
      try {
        if (!batchId) {
          const batches = await pipeline.store.listBatches(20);
          if (opts.json) console.log(JSON.stringify(batches, null, 2));
          else if (batches.length === 0) console.log('no batches yet');
          else for (const batch of batches) console.log(batchLine(batch));
          return;
        }
        const batch = await pipeline.store.getBatch(batchId);
        if (!batch) {
          console.error(`no batch "${batchId}" (see \`acronis-onboard status\` for the list)`);
          process.exitCode = 2;
          return;
        }
        const customers = await pipeline.store.batchCustomers(batchId);
        const failed = customers.filter((c) => c.record?.state === 'failed' && c.record.batchId === batchId);
        if (opts.json) {
          console.log(
            JSON.stringify(
              {
                batch,
                failed: failed.map((c) => ({ customer: c.key, step: c.record?.failedStep, error: c.record?.error })),
              },
              null,
              2,
            ),
          );
          return;
        }
        console.log(batchLine(batch));
        for (const c of failed) console.log(`  failed  ${c.key} at ${c.record?.failedStep}: ${c.record?.error}`);
        if (!batch.ended) process.exitCode = 0;
      } finally {
        await pipeline.close();
      }
    });
}

export function batchLine(b: BatchRecord): string {
  const state = b.ended ? (b.failed > 0 ? 'ended with failures' : 'ended') : 'in progress';
  return `${b.id}  ${b.source}:${b.label}  ${state}  total ${b.total}  queued ${b.queued}  running ${b.running}  done ${b.done}  failed ${b.failed}  skipped ${b.skipped}${b.moved ? `  moved ${b.moved}` : ''}  (${b.createdAt})`;
}
