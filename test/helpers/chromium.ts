import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { extract } from 'tar-fs';

/**
 * The Chromium the browser test drives: `CHROMIUM_PATH` when set, Debian's `/usr/bin/chromium`
 * when installed, else the headless shell that `@sparticuz/chromium` ships inside its npm
 * package (brotli-compressed, with the NSS libraries and a font it needs), so `npm ci && npm
 * test` needs no browser download and no apt-get. The package's own `executablePath()` unpacks
 * into the shared /tmp without a lock (another test run can launch a half-written file), so it
 * is unpacked here into node_modules/.cache, once per package version, under a temporary name
 * renamed into place when complete.
 */
export interface ChromiumBrowser {
  executablePath: string;
  /** Where it came from, for the test's messages. */
  source: 'CHROMIUM_PATH' | 'debian' | '@sparticuz/chromium';
  /** The environment to launch it with (the packaged one loads its own libraries and fonts). */
  env: Record<string, string | undefined>;
}

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const PACKAGE = '@sparticuz/chromium';

export async function findChromium(env: NodeJS.ProcessEnv = process.env): Promise<ChromiumBrowser> {
  const fromEnv = env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv}: no such file`);
    return { executablePath: fromEnv, source: 'CHROMIUM_PATH', env: { ...env } };
  }
  if (existsSync(DEBIAN_CHROMIUM)) return { executablePath: DEBIAN_CHROMIUM, source: 'debian', env: { ...env } };
  if (process.arch !== 'x64') {
    throw new Error(`${PACKAGE} ships an x64 build only: on ${process.arch} install chromium or set CHROMIUM_PATH`);
  }
  const dir = await unpackedPackage();
  return {
    executablePath: join(dir, 'chromium'),
    source: PACKAGE,
    // Its NSS libraries come first, so a machine without libnss3 runs it too.
    env: { ...env, LD_LIBRARY_PATH: join(dir, 'lib'), FONTCONFIG_FILE: join(dir, 'fonts.conf') },
  };
}

/** The package's folder: up from its entry point to its own package.json (the build folders hold others). */
function packageRoot(): { root: string; version: string } {
  for (let dir = dirname(createRequire(import.meta.url).resolve(PACKAGE)); dirname(dir) !== dir; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version: string };
    if (name === PACKAGE) return { root: dir, version };
  }
  throw new Error(`${PACKAGE}: its package.json was not found (run npm ci)`);
}

async function unpackedPackage(): Promise<string> {
  const { root, version } = packageRoot();
  const bin = join(root, 'bin');
  const target = resolve(import.meta.dirname, '../../node_modules/.cache/acronis-onboard-chromium', version);
  if (existsSync(target)) return target;
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  await Promise.all([
    pipeline(
      createReadStream(join(bin, 'chromium.br')),
      createBrotliDecompress(),
      createWriteStream(join(partial, 'chromium'), { mode: 0o755 }),
    ),
    // al2023.tar.br holds lib/ (NSS, NSPR, expat); fonts.tar.br holds fonts/ (Open Sans).
    pipeline(createReadStream(join(bin, 'al2023.tar.br')), createBrotliDecompress(), extract(partial)),
    pipeline(createReadStream(join(bin, 'fonts.tar.br')), createBrotliDecompress(), extract(partial)),
  ]);
  // Replaces the package's fonts.conf (it names Lambda's folders): the machine's fonts when it has any, and the packaged one.
  const fontsConf = `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n  <dir>${join(target, 'fonts')}</dir>\n</fontconfig>\n`;
  writeFileSync(join(partial, 'fonts.conf'), fontsConf);
  try {
    renameSync(partial, target);
  } catch (err) {
    // Another run finished first: its copy is as good as ours.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(target)) throw err;
  }
  return target;
}
