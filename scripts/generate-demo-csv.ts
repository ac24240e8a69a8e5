/**
 * Writes examples/demo-customers.csv, the sample `npm run demo` imports: 350 rows of realistic,
 * made-up customers from 12 countries, the same on every run (a fixed seed). Among them, on
 * purpose, 4 bad rows the import reports by line and field, and one customer whose name a
 * customer created by hand already has (the demo's simulator seeds 3 such), which fails at
 * create-tenant with the reason. Another row count (any from 1) puts each of them at the same
 * share of the file; one that finds its row taken (a small file) is left out, with a warning.
 * Run it again only to change the sample:
 *   npx tsx scripts/generate-demo-csv.ts [rows=350] [file=examples/demo-customers.csv]
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { seededRandom } from '../src/seeded-random.js';

/** The committed sample's length: the rows below that name a line are lines of a file this long. */
const SAMPLE_ROWS = 350;

class RowCountError extends Error {
  constructor(given: string, most: number) {
    super(`rows must be a whole number from 1 to ${most} (the distinct names there are), not "${given}"`);
    this.name = 'RowCountError';
  }
}

const next = seededRandom(20261201);
const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;

interface Country {
  code: string;
  language: string;
  forms: string[];
  first: string[];
  last: string[];
  phone: () => string;
}
const digits = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 10)).join('');
const COUNTRIES: Country[] = [
  {
    code: 'DE',
    language: 'de',
    forms: ['GmbH', 'GmbH & Co. KG', 'AG', 'e.K.'],
    first: ['Jürgen', 'Anna', 'Lukas', 'Sabine', 'Felix', 'Katrin'],
    last: ['Hoffmann', 'Schneider', 'Weber', 'Becker', 'Krüger', 'Wolf'],
    phone: () => `+49 89 ${digits(7)}`,
  },
  {
    code: 'AT',
    language: 'de',
    forms: ['GmbH', 'KG', 'OG'],
    first: ['Anna', 'Florian', 'Lena', 'Stefan'],
    last: ['Berger', 'Gruber', 'Huber', 'Pichler'],
    phone: () => `+43 1 ${digits(7)}`,
  },
  {
    code: 'GB',
    language: 'en',
    forms: ['Ltd', 'LLP', 'plc'],
    first: ['Oliver', 'Amelia', 'Harry', 'Isla', 'Tom', 'Grace'],
    last: ['Hughes', 'Fletcher', 'Patel', 'Walker', 'Evans', 'Wright'],
    phone: () => `+44 20 7946 ${digits(4)}`,
  },
  {
    code: 'IE',
    language: 'en',
    forms: ['Ltd', 'DAC'],
    first: ['Aoife', 'Cian', 'Niamh', 'Seán'],
    last: ["O'Neill", 'Murphy', 'Byrne', 'Walsh'],
    phone: () => `+353 1 ${digits(7)}`,
  },
  {
    code: 'US',
    language: 'en',
    forms: ['Inc.', 'LLC', 'Corp.'],
    first: ['Marcus', 'Emily', 'Jordan', 'Priya', 'Daniel', 'Megan'],
    last: ['Reed', 'Carter', 'Nguyen', 'Brooks', 'Ramirez', 'Hayes'],
    phone: () => `+1 312 555 ${digits(4)}`,
  },
  {
    code: 'CA',
    language: 'en',
    forms: ['Inc.', 'Ltd.'],
    first: ['Chloé', 'Liam', 'Avery', 'Noah'],
    last: ['Tremblay', 'Roy', 'Singh', 'MacDonald'],
    phone: () => `+1 416 555 ${digits(4)}`,
  },
  {
    code: 'FR',
    language: 'fr',
    forms: ['SARL', 'SAS', 'SA'],
    first: ['Élodie', 'Julien', 'Camille', 'Hugo'],
    last: ['Martin', 'Lefèvre', 'Moreau', 'Girard'],
    phone: () => `+33 1 ${digits(2)} ${digits(2)} ${digits(2)} ${digits(2)}`,
  },
  {
    code: 'NL',
    language: 'nl',
    forms: ['B.V.', 'V.O.F.'],
    first: ['Sanne', 'Daan', 'Femke', 'Joris'],
    last: ['de Vries', 'Jansen', 'Bakker', 'Visser'],
    phone: () => `+31 20 ${digits(7)}`,
  },
  {
    code: 'SE',
    language: 'sv',
    forms: ['AB', 'HB'],
    first: ['Erik', 'Maja', 'Oskar', 'Elsa'],
    last: ['Lindqvist', 'Johansson', 'Berg', 'Nilsson'],
    phone: () => `+46 8 ${digits(8)}`,
  },
  {
    code: 'ES',
    language: 'es',
    forms: ['S.L.', 'S.A.'],
    first: ['Lucía', 'Javier', 'Carmen', 'Pablo'],
    last: ['Fernández', 'García', 'López', 'Martín'],
    phone: () => `+34 91 ${digits(7)}`,
  },
  {
    code: 'IT',
    language: 'it',
    forms: ['S.r.l.', 'S.p.A.', 'S.n.c.'],
    first: ['Giulia', 'Marco', 'Chiara', 'Luca'],
    last: ['Rossi', 'Bianchi', 'Ferrari', 'Romano'],
    phone: () => `+39 02 ${digits(8)}`,
  },
  {
    code: 'PL',
    language: 'pl',
    forms: ['Sp. z o.o.', 'S.A.'],
    first: ['Agnieszka', 'Piotr', 'Zofia', 'Tomasz'],
    last: ['Nowak', 'Kowalski', 'Wiśniewska', 'Zieliński'],
    phone: () => `+48 22 ${digits(7)}`,
  },
];
const PLACES = [
  'Alpine',
  'Brightside',
  'Copperfield',
  'Dunmore',
  'Eastgate',
  'Fernhill',
  'Greenleaf',
  'Harbourview',
  'Ironbridge',
  'Juniper',
  'Kestrel',
  'Lakeside',
  'Millbrook',
  'Northwind',
  'Oakridge',
  'Pinecrest',
  'Quayside',
  'Riverbend',
  'Silverline',
  'Thornbury',
  'Upland',
  'Valewood',
  'Westfield',
  'Yarrow',
  'Zenith',
  'Bluewater',
  'Cedar',
  'Driftwood',
  'Elmstead',
  'Foxglove',
];
const TRADES = [
  'Dental Practice',
  'Accounting',
  'Logistics',
  'Architects',
  'Veterinary Clinic',
  'Law Office',
  'Bakery',
  'Engineering',
  'Consulting',
  'Pharmacy',
  'Print Studio',
  'Auto Repair',
  'Physiotherapy',
  'Insurance Brokers',
  'Property Management',
  'Optics',
  'Dental Lab',
  'Travel Agency',
  'Bike Shop',
  'Roofing',
  'Translation Services',
  'Catering',
  'Tax Advisors',
  'Medical Centre',
];

const slug = (text: string) =>
  text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
const ascii = (text: string) => slug(text).replace(/-/g, '');

/** Each name is a place, a trade and a legal form, all different: past that many, none is left to pick. */
const MOST_ROWS = PLACES.length * TRADES.length * new Set(COUNTRIES.flatMap((c) => c.forms)).size;

function rowCount(given: string | undefined): number {
  const rows = Number(given ?? SAMPLE_ROWS);
  if (!Number.isInteger(rows) || rows < 1 || rows > MOST_ROWS) throw new RowCountError(String(given), MOST_ROWS);
  return rows;
}

function customer(n: number, names: Set<string>): Record<string, string> {
  const country = pick(COUNTRIES);
  let name: string;
  do name = `${pick(PLACES)} ${pick(TRADES)} ${pick(country.forms)}`;
  while (names.has(name.toLowerCase()));
  names.add(name.toLowerCase());
  const first = pick(country.first);
  const last = pick(country.last);
  const domain = `${slug(name).split('-').slice(0, 2).join('-')}-${n}.example`;
  const roll = next();
  return {
    external_id: `crm-${String(20000 + n)}`,
    name,
    email: `${pick(['it', 'admin', 'office', 'ops'])}@${domain}`,
    first_name: first,
    last_name: last,
    language: country.language,
    country: country.code,
    phone: country.phone(),
    // Left to the profile: the demo's standard one offers per-workload only.
    edition: '',
    activation: roll > 0.95 ? 'password' : '',
    login: roll > 0.4 && roll < 0.5 ? `${ascii(first)}.${ascii(last)}.${n}` : '',
  };
}

type Row = Record<string, string>;

/** A change made on purpose, at its row of the 350-row sample. */
interface Deliberate {
  at: number;
  what: string;
  change?: Partial<Row>;
  /** The sample's row whose external_id this one repeats; that row is kept as generated. */
  repeats?: number;
}

// The deliberate problems, spread through the file so they show with their own line numbers.
const DELIBERATE: Deliberate[] = [
  { at: 41, what: 'a bad email', change: { email: 'accounts(at)example' } },
  { at: 97, what: 'an empty name', change: { name: '' } },
  // Fails on purpose: the demo's simulator holds a customer of this name made by hand (no customer_id).
  { at: 150, what: 'a name taken by hand', change: { name: 'Existing Customer 2' } },
  { at: 180, what: 'an edition not offered', change: { edition: 'pck_per_seat' } },
  { at: 263, what: 'a repeated external_id', repeats: 5 },
];

/**
 * Makes each change at the same share of a file of `rows.length` rows as in the sample (so at its
 * own row there); one that needs a row another has taken is left out. Returns those left out.
 */
function applyDeliberate(rows: Row[]): string[] {
  const taken = new Set<number>();
  const slot = (at: number) => Math.max(1, Math.round((at * rows.length) / SAMPLE_ROWS));
  const left: string[] = [];
  for (const d of DELIBERATE) {
    const [row, original] = [slot(d.at), d.repeats === undefined ? undefined : slot(d.repeats)];
    const needs = original === undefined ? [row] : [row, original];
    if (original === row || needs.some((r) => taken.has(r))) {
      left.push(d.what);
      continue;
    }
    for (const r of needs) taken.add(r);
    const repeat = original === undefined ? undefined : { external_id: rows[original - 1]!.external_id! };
    Object.assign(rows[row - 1]!, repeat ?? d.change);
  }
  return left;
}

const [rowsArg, fileArg] = process.argv.slice(2);
const FILE = resolve(import.meta.dirname, '..', fileArg ?? 'examples/demo-customers.csv');
const names = new Set<string>();
const rows = Array.from({ length: rowCount(rowsArg) }, (_, i) => customer(i + 1, names));
const left = applyDeliberate(rows);
if (left.length > 0) console.warn(`left out, no room for them in ${rows.length} rows: ${left.join(', ')}`);

const columns = [
  'external_id',
  'name',
  'email',
  'first_name',
  'last_name',
  'language',
  'country',
  'phone',
  'edition',
  'activation',
  'login',
];
writeFileSync(FILE, stringify(rows, { header: true, columns }));
console.warn(`wrote ${FILE}: ${rows.length} rows`);
