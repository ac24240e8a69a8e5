/**
 * Where a server was told to listen, and by what: `PORT`/`HOST` from the environment, or a
 * command's `--port`/`--host`. A message about the address then names what the person set.
 */
export interface ListenSetting<T> {
  /** `PORT`, `--port`, `HOST` or `--host`. */
  name: string;
  value: T;
}

export interface ListenSettings {
  port: ListenSetting<number>;
  host: ListenSetting<string>;
}

/** The address could not be had: taken (EADDRINUSE) or not this machine's (EADDRNOTAVAIL). */
export class ListenError extends Error {
  constructor(
    readonly code: 'EADDRINUSE' | 'EADDRNOTAVAIL',
    readonly settings: ListenSettings,
  ) {
    super(listenMessage(code, settings));
    this.name = 'ListenError';
  }
}

/** `settings` from an option when one was given, else from the environment variable. */
export function listenSettings(
  options: { port?: number; host?: string },
  env: { PORT: number; HOST: string },
): ListenSettings {
  return {
    port: options.port !== undefined ? { name: '--port', value: options.port } : { name: 'PORT', value: env.PORT },
    host: options.host !== undefined ? { name: '--host', value: options.host } : { name: 'HOST', value: env.HOST },
  };
}

/** Runs `listen`; an address that cannot be had becomes a ListenError naming its setting. */
export async function listening<T>(settings: ListenSettings, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL') throw new ListenError(code, settings);
    throw err;
  }
}

function listenMessage(code: ListenError['code'], { port, host }: ListenSettings): string {
  if (code === 'EADDRINUSE')
    return `${port.name} ${port.value} on ${host.value} is in use by another program: ${setTo(port.name, 'a free port')} (${example(port.name, '0')} picks one)`;
  return `${host.name} ${host.value} is not an address of this machine: ${setTo(host.name, '127.0.0.1')}, or 0.0.0.0 for every interface`;
}

const isOption = (name: string) => name.startsWith('--');
const setTo = (name: string, what: string) => (isOption(name) ? `give ${name} ${what}` : `set ${name} to ${what}`);
const example = (name: string, value: string) => (isOption(name) ? `${name} ${value}` : `${name}=${value}`);
