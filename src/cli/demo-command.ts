import type { Command } from 'commander';
import { terminalSafeLines } from './terminal-text.js';

/** `acronis-onboard demo [--exit] [--csv FILE] [--keep-results]`: see src/demo/demo.ts. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run the whole thing on this machine: Redis, the simulators, workers, server, 350 sample customers, and one customer each from a simulated HubSpot, ConnectWise, Pipedrive, Salesforce and Autotask PSA',
    )
    .option(
      '--exit',
      'stop once the import and the source customers have ended instead of serving the dashboards until Ctrl-C',
    )
    .option('--csv <file>', 'import this CSV instead of the sample (required when ACRONIS_BASE_URL is set)')
    .option(
      '--keep-results',
      'keep the results file (passwords, agent tokens) when the demo ends; by default it is removed',
    )
    .action(async (opts: { exit?: boolean; csv?: string; keepResults?: boolean }) => {
      // Loaded on use: the demo brings the simulator, which no other command needs.
      const { runDemo } = await import('../demo/demo.js');
      process.exitCode = await runDemo({
        exit: opts.exit === true,
        ...(opts.csv ? { csv: opts.csv } : {}),
        keepResults: opts.keepResults === true,
        print: (line) => console.log(terminalSafeLines(line)),
      });
    });
}
