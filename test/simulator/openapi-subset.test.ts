import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TARGET } from '../../scripts/extract-openapi.js';
import { OAS_OPERATIONS } from '../../src/simulator/operations.js';

describe('openapi-subset.json', () => {
  it('holds every operation the simulator implements, with its schemas', () => {
    const subset = JSON.parse(readFileSync(DEFAULT_TARGET, 'utf8')) as {
      operations: Record<string, { responses: Record<string, unknown>; requestBody: unknown }>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(subset.operations).sort()).toEqual([...OAS_OPERATIONS].sort());
    for (const name of [
      'tenantPost',
      'userPost',
      'registrationTokenPostV2',
      'clientPost',
      'tenantOfferingItemsPut',
      'errorScheme',
    ]) {
      expect(subset.components.schemas[name], name).toBeDefined();
    }
    // Every $ref resolves inside the subset.
    const refs = JSON.stringify(subset).match(/"#\/components\/schemas\/[^"]+"/g) ?? [];
    for (const ref of refs)
      expect(subset.components.schemas[ref.slice('"#/components/schemas/'.length, -1)], ref).toBeDefined();
  });
});
