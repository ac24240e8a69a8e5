import { dataCentreLabel } from '../simulator/data-centres.js';
import type { RunningSimulator } from '../simulator/index.js';
import { tty } from './terminal-text.js';

/**
 * What `acronis-onboard sim` prints. It prints the fake credentials on purpose: that is what a
 * developer needs to point the service at the simulator.
 */

/** The seeded partner, client, admin and storages of one simulator, one line each. */
function seedLines(sim: RunningSimulator): string[] {
  const { seed } = sim;
  return [
    `Partner tenant    ${seed.partnerName} (${seed.partnerTenantId})`,
    `Customers         ${seed.customers} existing`,
    `API client id     ${seed.clientId}`,
    `API client secret ${seed.clientSecret}`,
    `Admin login       ${seed.adminLogin}`,
    `Admin password    ${seed.adminPassword}`,
    ...seed.infras.map((infra) => `Storage           ${infra.name} (${infra.id}, ${infra.capabilities.join(', ')})`),
  ];
}

const inspectLine = (sim: RunningSimulator) =>
  `${sim.url}/__sim/state, ${sim.url}/__sim/stats, ${sim.url}/__sim/config (PUT to change)`;

/** One simulator: its seed and the export lines of the single-partner environment. */
function printSingleSimulator(sim: RunningSimulator): void {
  console.log(`Acronis API simulator listening on ${sim.url} (API at ${sim.url}/api/2)`);
  console.log('');
  for (const line of seedLines(sim)) console.log(line);
  console.log('');
  console.log(`export ACRONIS_BASE_URL=${sim.url}`);
  console.log(`export ACRONIS_CLIENT_ID=${sim.seed.clientId}`);
  console.log(`export ACRONIS_CLIENT_SECRET=${sim.seed.clientSecret}`);
  console.log('');
  console.log(`Inspect: ${inspectLine(sim)}. Ctrl-C stops.`);
}

/** Several data centres: a block each, with its URL, seed, rate limit and control endpoints. */
function printDataCentres(sims: readonly RunningSimulator[]): void {
  console.log(`Acronis API simulator: ${sims.length} data centres, each its own simulator`);
  sims.forEach((sim, index) => {
    const limit = sim.config().rateLimit;
    console.log('');
    console.log(`${dataCentreLabel(index + 1)} listening on ${sim.url} (API at ${sim.url}/api/2)`);
    for (const line of seedLines(sim)) console.log(`  ${line}`);
    console.log(`  Rate limit        ${limit === null ? 'none' : `${limit} requests per second`}`);
    console.log(`  Inspect           ${inspectLine(sim)}`);
  });
}

/** The partners file written for the simulators, and the lines the operator puts in .env beside it. */
export interface WrittenPartnersFile {
  path: string;
  envLines: string[];
}

function printPartnersFile({ path, envLines }: WrittenPartnersFile): void {
  console.log('');
  console.log(tty`Partners file written to ${path}. Put in .env:`);
  for (const line of envLines) console.log(tty`${line}`);
}

/**
 * One simulator prints as it always has (then the partners file, if asked for); several print a
 * block each, the partners file or how to get one, and last the line that says all are up.
 */
export function printSimulators(sims: readonly RunningSimulator[], partnersFile?: WrittenPartnersFile): void {
  const [only] = sims;
  if (sims.length === 1 && only) {
    printSingleSimulator(only);
    if (partnersFile) printPartnersFile(partnersFile);
    return;
  }
  printDataCentres(sims);
  if (partnersFile) printPartnersFile(partnersFile);
  else {
    console.log('');
    console.log('--partners-file PATH writes a partners file (PARTNERS_FILE) for these and prints its .env lines.');
  }
  console.log('');
  console.log('Ctrl-C stops every data centre.');
}
