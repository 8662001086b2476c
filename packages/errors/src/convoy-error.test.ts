import { describe, expect, it } from 'vitest';
import { ConvoyError, errorCode, isConvoyError, redactSecrets, redactUrl } from './index.js';

class VolumeMissing extends ConvoyError {
  constructor(name: string) {
    super('CONVOY_VOLUME_NOT_FOUND', `volume ${name} not found`, { hint: 'convoy list shows volumes' });
  }
}

describe('ConvoyError', () => {
  it('carries code, hint and subclass name, and serialises without the stack', () => {
    const e = new VolumeMissing('v1');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('VolumeMissing');
    expect(isConvoyError(e, 'CONVOY_VOLUME_NOT_FOUND')).toBe(true);
    expect(isConvoyError(e, 'CONVOY_VOLUME_EXISTS')).toBe(false);
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: 'CONVOY_VOLUME_NOT_FOUND',
      message: 'volume v1 not found',
      hint: 'convoy list shows volumes',
    });
  });

  it('errorCode reads Node system error codes too', () => {
    const sys = Object.assign(new Error('x'), { code: 'ENOENT' });
    expect(errorCode(sys)).toBe('ENOENT');
    expect(errorCode(new VolumeMissing('a'))).toBe('CONVOY_VOLUME_NOT_FOUND');
    expect(errorCode('nope')).toBeUndefined();
  });
});

describe('redaction', () => {
  it('hides passwords and secret query parameters in URLs', () => {
    expect(redactUrl('s3://AK:SECRET@bucket/prefix')).not.toContain('SECRET');
    expect(redactUrl('http://h/x?X-Amz-Signature=abc&volume=v')).toBe('http://h/x?X-Amz-Signature=***&volume=v');
  });
  it('hides secret-looking fields at any depth and keeps the rest', () => {
    const r = redactSecrets({ accessKeyId: 'AK', secretAccessKey: 'SK', nested: [{ password: 'p', key: 'blocks/ab', sessionToken: 't' }] });
    expect(r).toEqual({ accessKeyId: 'AK', secretAccessKey: '***', nested: [{ password: '***', key: 'blocks/ab', sessionToken: '***' }] });
  });
});
