import { describe, expect, it } from 'vitest';
import { ConvoyError } from '@convoy/errors';
import { toApiError } from './http.js';

describe('toApiError', () => {
  it('an error quoting a URL with credentials answers (and logs) it without them', () => {
    const convoy = toApiError(
      new ConvoyError('CONVOY_STORE_URL_INVALID', 'cannot open s3://AKIA:topsecret@bucket/x', { hint: 'or try http://u:topsecret@h/' }),
    );
    expect(convoy.status).toBe(400);
    expect(JSON.stringify(convoy.body)).not.toContain('topsecret');
    expect(convoy.body.message).toContain('s3://AKIA:***@bucket/x');
    const other = toApiError(new Error('fetch http://u:topsecret@127.0.0.1:1/ failed'));
    expect(other).toMatchObject({ status: 500, body: { code: 'CONVOY_INTERNAL' } });
    expect(JSON.stringify(other.body)).not.toContain('topsecret');
  });
});
