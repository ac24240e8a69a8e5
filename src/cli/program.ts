import { Command } from 'commander';
import { VERSION } from '../version.js';
import { registerBootstrapCommand } from './bootstrap-command.js';
import { registerCheckCommand } from './check-command.js';
import { describeCommands } from './command-help.js';
import { registerDemoCommand } from './demo-command.js';
import { registerImportCommand } from './import-command.js';
import { registerLifecycleCommands } from './lifecycle-command.js';
import { registerReconcileCommand } from './reconcile-command.js';
import { registerResealCommand } from './reseal-command.js';
import { registerResendActivationCommand } from './resend-activation-command.js';
import { registerResultsCommand } from './results-command.js';
import { registerRetryCommand } from './retry-command.js';
import { registerServeCommands } from './serve-command.js';
import { registerSimCommand } from './sim-command.js';
import { registerSourcesCommand } from './sources-command.js';
import { registerStatusCommand } from './status-command.js';
import { registerWorkCommand } from './work-command.js';

/**
 * The `acronis-onboard` program with every command, in the order a user meets them (`--help`
 * lists them so): the demo, the simulator, then going live and following the work.
 */
export function buildProgram(): Command {
  const program = new Command()
    .name('acronis-onboard')
    .description("Onboard an MSP's customers into Acronis Cyber Cloud")
    .version(VERSION)
    .exitOverride();
  registerDemoCommand(program);
  registerSimCommand(program);
  registerBootstrapCommand(program);
  registerCheckCommand(program);
  registerWorkCommand(program);
  registerImportCommand(program);
  registerStatusCommand(program);
  registerResultsCommand(program);
  registerRetryCommand(program);
  registerResendActivationCommand(program);
  registerLifecycleCommands(program);
  registerReconcileCommand(program);
  registerServeCommands(program);
  registerSourcesCommand(program);
  registerResealCommand(program);
  describeCommands(program);
  return program;
}
