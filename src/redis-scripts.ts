import type { Redis } from 'ioredis';

export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
}

export type ScriptCommands<S> = Record<keyof S, (...keysAndArgs: (string | number)[]) => Promise<unknown>>;

/**
 * Registers Lua scripts on a client as commands (ioredis `defineCommand`: EVALSHA, with the
 * EVAL fallback after a SCRIPT FLUSH or a restarted server). Registering twice is harmless,
 * so every module that shares a connection can register its own.
 */
export function defineScripts<S extends Record<string, ScriptDefinition>>(redis: Redis, scripts: S): ScriptCommands<S> {
  for (const [name, definition] of Object.entries(scripts)) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function')
      redis.defineCommand(name, definition);
  }
  return redis as unknown as ScriptCommands<S>;
}
