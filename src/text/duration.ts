/**
 * Durations as people write them in settings: `1d`, `12h`, `30m`, `90s`, `500ms`, or a bare
 * number of milliseconds (what a parsed Config gives back when it is written out again).
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i;

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const unit = (match[2]?.toLowerCase() ?? 'ms') as keyof typeof UNIT_MS;
  return Math.round(Number(match[1]) * UNIT_MS[unit]);
}

/** The largest whole unit that says it exactly: 86400000 → "1 d", 5400000 → "90 min", 1500 → "1500 ms". */
export function durationWords(ms: number): string {
  const units: [number, string][] = [
    [UNIT_MS.d, 'd'],
    [UNIT_MS.h, 'h'],
    [UNIT_MS.m, 'min'],
    [UNIT_MS.s, 's'],
  ];
  for (const [size, name] of units) if (ms >= size && ms % size === 0) return `${ms / size} ${name}`;
  return `${ms} ms`;
}
