import { isConvoyError } from '@convoy/errors';
import { describe, expect, it, vi } from 'vitest';
import { MountRefCounter, type MountRefState } from './ref-counter.js';

describe('MountRefCounter', () => {
  it('mounts on the first ID, unmounts on the last, and counts the ones between', () => {
    const refs = new MountRefCounter();
    expect(refs.add('v', 'c1')).toMatchObject({ added: true, first: true });
    expect(refs.add('v', 'c2')).toMatchObject({ added: true, first: false });
    expect(refs.count('v')).toBe(2);
    expect(refs.remove('v', 'c1')).toMatchObject({ removed: true, last: false });
    expect(refs.isMounted('v')).toBe(true);
    expect(refs.remove('v', 'c2')).toMatchObject({ removed: true, last: true });
    expect(refs.isMounted('v')).toBe(false);
    expect(refs.toJSON()).toEqual({});
  });

  it('a repeated ID is idempotent and an unknown ID is harmless', () => {
    const refs = new MountRefCounter();
    refs.add('v', 'c1');
    expect(refs.add('v', 'c1')).toMatchObject({ added: false, first: false });
    expect(refs.ids('v')).toEqual(['c1']);
    expect(refs.remove('v', 'nobody')).toMatchObject({ removed: false, last: false });
    expect(refs.remove('other', 'c1')).toMatchObject({ removed: false, last: false });
    expect(refs.ids('v')).toEqual(['c1']);
  });

  it('keeps volumes apart', () => {
    const refs = new MountRefCounter();
    refs.add('a1', 'x');
    refs.add('b1', 'x');
    expect(refs.remove('a1', 'x').last).toBe(true);
    expect(refs.has('b1', 'x')).toBe(true);
  });

  it('exports sorted, copied state and imports it back (the daemon restart)', () => {
    const refs = new MountRefCounter();
    refs.add('zeta', 'c1');
    refs.add('alpha', 'c2');
    refs.add('alpha', 'c3');
    const saved = JSON.stringify(refs);
    expect(saved).toBe('{"alpha":["c2","c3"],"zeta":["c1"]}');
    const exported = refs.toJSON();
    exported.alpha?.push('tampered');
    expect(refs.ids('alpha')).toEqual(['c2', 'c3']);

    const restored = MountRefCounter.fromJSON(JSON.parse(saved));
    expect(restored.toJSON()).toEqual({ alpha: ['c2', 'c3'], zeta: ['c1'] });
    expect(restored.add('alpha', 'c4').first).toBe(false);
    expect(restored.remove('zeta', 'c1').last).toBe(true);
  });

  it('import drops empty entries and duplicate IDs', () => {
    expect(MountRefCounter.fromJSON({ a1: [], b1: ['x', 'x', 'y'] }).toJSON()).toEqual({ b1: ['x', 'y'] });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['an array', [['v', ['x']]]],
    ['a string', '{}'],
    ['IDs not an array', { v: 'x' }],
    ['a non-string ID', { v: [1] }],
    ['an empty ID', { v: [''] }],
    ['an empty name', { '': ['x'] }],
  ])('import rejects %s with a stable code', (_label, value) => {
    let code: string | undefined;
    try {
      MountRefCounter.fromJSON(value);
    } catch (err) {
      code = isConvoyError(err) ? err.code : 'other';
    }
    expect(code).toBe('CONVOY_MOUNT_STATE_INVALID');
  });

  it('a "__proto__" entry stays data', () => {
    const refs = MountRefCounter.fromJSON(JSON.parse('{"__proto__":["x"]}'));
    expect(refs.ids('__proto__')).toEqual(['x']);
    expect(Object.getPrototypeOf(refs.toJSON())).toBe(Object.prototype);
  });

  it('onChange sees the whole state after each real change, and only then', async () => {
    const seen: MountRefState[] = [];
    const refs = new MountRefCounter({}, { onChange: (s) => void seen.push(s) });
    await refs.add('v', 'c1').saved;
    await refs.add('v', 'c1').saved; // no change
    await refs.add('v', 'c2').saved;
    await refs.remove('v', 'ghost').saved; // no change
    await refs.remove('v', 'c1').saved;
    await refs.forget('v').saved;
    await refs.forget('v').saved; // no change
    expect(seen).toEqual([{ v: ['c1'] }, { v: ['c1', 'c2'] }, { v: ['c2'] }, {}]);
  });

  it('saved waits for an async listener and carries its failure', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const refs = new MountRefCounter();
    const unsubscribe = refs.onChange(() => gate);
    let done = false;
    const pending = refs.add('v', 'c1').saved.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    release();
    await pending;
    expect(done).toBe(true);
    unsubscribe();

    refs.onChange(() => Promise.reject(new Error('disk full')));
    await expect(refs.add('v', 'c2').saved).rejects.toThrow('disk full');
    expect(refs.ids('v')).toEqual(['c1', 'c2']); // the state itself changed
  });

  it('an ignored failed save is not an unhandled rejection', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const refs = new MountRefCounter({}, { onChange: () => Promise.reject(new Error('nope')) });
      refs.add('v', 'c1');
      refs.onChange(() => {
        throw new Error('sync nope');
      });
      refs.add('v', 'c2');
      // an unhandled rejection would be reported once the microtasks have run: give it two turns
      for (let i = 0; i < 2; i++) await new Promise<void>((r) => setImmediate(r));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});
