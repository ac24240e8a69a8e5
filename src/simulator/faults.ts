import type { Fault } from './options.js';

const MUTATING = new Set(['POST', 'PUT', 'DELETE']);

function matches(fault: Fault, method: string, route: string): boolean {
  if ((fault.kind === 'commit-then-fail' || fault.kind === 'concurrent-write') && !MUTATING.has(method)) return false;
  if (fault.methods && !fault.methods.includes(method)) return false;
  if (fault.path !== undefined && !new RegExp(fault.path).test(route)) return false;
  return true;
}

/**
 * The first fault that matches the request and wins its probability roll, and the faults to keep
 * armed afterwards (`times` counted down, used-up ones removed).
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
