import type { Fault } from './options.js';

const MUTATING = new Set(['POST', 'PUT', 'DELETE']);

function matches(fault: Fault, method: string, route: string): boolean {
  if (fault.kind === 'commit-then-fail' && !MUTATING.has(method)) return false;
  if (fault.methods && !fault.methods.includes(method)) return false;
  if (fault.path !== undefined && !new RegExp(fault.path).test(route)) return false;
  return true;
}

/**
 * Picks the fault for one /api/2 request: the first configured fault that matches the
 * method and OAS route and wins its probability roll. A fault with `times` is used up by
 * that pick; the returned list is the configuration to keep (used-up faults removed), so
 * GET /__sim/config shows what is still armed.
 */
export function pickFault(
  faults: readonly Fault[],
  method: string,
  route: string,
  roll: () => number,
): { fault: Fault | null; remaining: Fault[] } {
  for (const [index, fault] of faults.entries()) {
    if (!matches(fault, method, route)) continue;
    if (roll() >= (fault.probability ?? 1)) continue;
    const remaining = [...faults];
    if (fault.times !== undefined) {
      if (fault.times <= 1) remaining.splice(index, 1);
      else remaining[index] = { ...fault, times: fault.times - 1 };
    }
    return { fault, remaining };
  }
  return { fault: null, remaining: [...faults] };
}
