import { describe, expect, it } from 'vitest';
import { s3Options } from './store.js';

describe('s3Options', () => {
  it('takes the endpoint from the flag, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL', () => {
    const env = { AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_S3: 'http://b:2' };
    expect(s3Options('http://c:3', env).endpoint).toBe('http://c:3');
    expect(s3Options(undefined, env).endpoint).toBe('http://b:2');
    expect(s3Options(undefined, { AWS_ENDPOINT_URL: 'http://a:1' }).endpoint).toBe('http://a:1');
    expect(s3Options(undefined, {}).endpoint).toBeUndefined();
  });
  it('passes env credentials only when both keys are set (else the SDK chain decides)', () => {
    expect(s3Options(undefined, { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK', AWS_REGION: 'eu-west-1' })).toEqual({
      credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
      region: 'eu-west-1',
    });
    expect(s3Options(undefined, { AWS_ACCESS_KEY_ID: 'AK' }).credentials).toBeUndefined();
  });
  it('refuses an endpoint that is not an http(s) URL, without echoing credentials', () => {
    expect(() => s3Options('ftp://x', {})).toThrow(expect.objectContaining({ code: 'CONVOY_USAGE' }));
    let message = '';
    try {
      s3Options('http://user:pw@host', {});
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/invalid S3 endpoint/);
    expect(message).not.toContain('pw');
    // a key pasted where the endpoint goes, or credentials in a URL too broken to parse
    for (const endpoint of ['SKtopsecret', 'topsecret@host', 'http://AK:top secret@host', 'http://AK:topsecret@ho st']) {
      let text = '';
      try {
        s3Options(endpoint, {});
      } catch (err) {
        text = `${(err as Error).message} ${(err as { hint?: string }).hint ?? ''}`;
      }
      expect(text, endpoint).toMatch(/invalid S3 endpoint/);
      expect(text, endpoint).not.toMatch(/topsecret|top secret/);
    }
  });
});
