import { Command } from 'commander';
import { VERSION } from '../version.js';
import { describeCommands } from './command-help.js';

type Register = (program: Command) => void;

/**
 * Each command's module and the commands it registers, in the order a user meets them (`--help`
 * lists them so): the demo, the simulator, then going live and following the work. The modules
 * are imported only when needed: every test spawns the command dozens of times, and importing all
 * of them (some 220 modules, BullMQ, got and the sources' parsers among them) cost each spawn
 * about twice what the command it runs needs (docs/development.md "Test-suite time").
 */
const COMMAND_MODULES: ReadonlyArray<{ names: readonly string[]; load: () => Promise<Register> }> = [
  { names: ['demo'], load: async () => (await import('./demo-command.js')).registerDemoCommand },
  { names: ['sim'], load: async () => (await import('./sim-command.js')).registerSimCommand },
  { names: ['bootstrap'], load: async () => (await import('./bootstrap-command.js')).registerBootstrapCommand },
  { names: ['check'], load: async () => (await import('./check-command.js')).registerCheckCommand },
  { names: ['work'], load: async () => (await import('./work-command.js')).registerWorkCommand },
  { names: ['import'], load: async () => (await import('./import-command.js')).registerImportCommand },
  { names: ['status'], load: async () => (await import('./status-command.js')).registerStatusCommand },
  { names: ['results'], load: async () => (await import('./results-command.js')).registerResultsCommand },
  { names: ['retry'], load: async () => (await import('./retry-command.js')).registerRetryCommand },
  {
    names: ['resend-activation'],
    load: async () => (await import('./resend-activation-command.js')).registerResendActivationCommand,
  },
  {
    names: ['suspend', 'resume', 'offboard', 'change'],
    load: async () => (await import('./lifecycle-command.js')).registerLifecycleCommands,
  },
  { names: ['adopt'], load: async () => (await import('./adopt-command.js')).registerAdoptCommand },
  { names: ['reconcile'], load: async () => (await import('./reconcile-command.js')).registerReconcileCommand },
  { names: ['serve', 'start'], load: async () => (await import('./serve-command.js')).registerServeCommands },
  { names: ['sources'], load: async () => (await import('./sources-command.js')).registerSourcesCommand },
  { names: ['reseal'], load: async () => (await import('./reseal-command.js')).registerResealCommand },
];

/** Every command name the program has, for the test that holds the table to the modules. */
export const COMMAND_NAMES: readonly string[] = COMMAND_MODULES.flatMap((m) => m.names);

/**
 * The `acronis-onboard` program. Given the name a command line starts with, it holds only the
 * module that registers that command; otherwise (no command, `--help`, `help`, a misspelling that
 * commander answers with a suggestion) every command.
 */
export async function buildProgram(commandName?: string): Promise<Command> {
  const program = new Command()
    .name('acronis-onboard')
    .description("Onboard an MSP's customers into Acronis Cyber Cloud")
    .version(VERSION)
    .exitOverride();
  const named = COMMAND_MODULES.filter((m) => commandName !== undefined && m.names.includes(commandName));
  const registers = await Promise.all((named.length > 0 ? named : COMMAND_MODULES).map((m) => m.load()));
  for (const register of registers) register(program);
  describeCommands(program);
  return program;
}
