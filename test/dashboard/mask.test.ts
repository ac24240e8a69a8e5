import { describe, expect, it } from 'vitest';
import { endpointName } from '../../src/acronis/endpoint-name.js';
import { HIDDEN, maskSecrets, maskText } from '../../src/dashboard/mask.js';
import { OAS_OPERATIONS, splitOperation } from '../../src/simulator/operations.js';

describe('masking what the dashboards show', () => {
  it('hides secret-named fields at any depth, and keeps the ids and times named after them', () => {
    const data = {
      request: { name: 'Acme', password_sealed: 'v1.aaaa.bbbb.cccc', password: 'Plain-Pass-1' },
      facts: { tokenId: 7, tokenSealed: 'v1.x', tokenExpiresAt: '2026-12-08', passwordSealed: 'v1.y', tenantId: 't-1' },
      headers: [{ authorization: 'Bearer abc' }, { client_secret: 's3cr3t' }],
    };
    expect(maskSecrets(data)).toEqual({
      request: { name: 'Acme', password_sealed: HIDDEN, password: HIDDEN },
      facts: { tokenId: 7, tokenSealed: HIDDEN, tokenExpiresAt: '2026-12-08', passwordSealed: HIDDEN, tenantId: 't-1' },
      headers: [{ authorization: HIDDEN }, { client_secret: HIDDEN }],
    });
  });

  it('hides secret-shaped text wherever it is: sealed values, JWTs, bearer tokens, registration tokens, URL credentials', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const text =
      `sealed v1.AAAAAAAAAAAA.BBBBBBBBBBBB.CCCC token ${jwt} header Bearer abcdefghijklmnop ` +
      'agent --reg-token=ABCD-EF12-3456 url https://user:hunter2@psa.example/cb?token=xyz&batch=7';
    const masked = maskText(text);
    for (const secret of ['AAAAAAAAAAAA', jwt, 'abcdefghijklmnop', 'ABCD-EF12-3456', 'hunter2', 'xyz']) {
      expect(masked).not.toContain(secret);
    }
    expect(masked).toContain('batch=7');
    expect(masked).toContain('https://user:[hidden]@psa.example');
    expect(maskText('created tenant 3f1b2c4d-aaaa-bbbb-cccc-0123456789ab')).toContain(
      '3f1b2c4d-aaaa-bbbb-cccc-0123456789ab',
    );
  });
});

describe('the metrics endpoint label', () => {
  it('is the OAS path template of every operation the simulator answers, whatever the ids', () => {
    for (const operation of OAS_OPERATIONS) {
      const { method, path } = splitOperation(operation);
      const concrete = path.replace(/\{[a-z_]+\}/g, () => 'b5c2a1d4-0000-4000-8000-00000000000a');
      expect(endpointName(method, `${concrete}?limit=10`)).toBe(operation);
    }
  });
});
