import { describe, expect, it } from 'vitest';
import { s3Hint } from './s3-errors.js';

describe('s3Hint', () => {
  it('missing credentials point at the credentials, not at the endpoint', () => {
    expect(s3Hint('CredentialsProviderError', undefined)).toMatch(/AWS_ACCESS_KEY_ID/);
    expect(s3Hint('CredentialsProviderError', undefined)).not.toMatch(/endpoint/);
  });
  it('refused credentials, a missing bucket and an unreachable endpoint each get their own hint', () => {
    expect(s3Hint('SignatureDoesNotMatch', 403)).toMatch(/credentials/);
    expect(s3Hint('NoSuchBucket', 404)).toMatch(/bucket/);
    expect(s3Hint('ECONNREFUSED', undefined)).toMatch(/endpoint/);
  });
});
