// Preloaded into convoy-daemon by daemon-kill.guest.test.ts (`node --import dm-kill-hook.ts
// apps/daemon/bin/convoy-daemon.cjs --drivers devicemapper …`): it kills the daemon with SIGKILL at
// an exact step of one operation, so the kill points cover every durable state the operation
// passes through on a real thin pool, not only the ones a timer happens to hit.
//
// A step is one of:
//   - a device-mapper ioctl that changes something: `dm CREATE|RELOAD|REMOVE|SUSPEND|RESUME <name>`
//     or `dm TARGET_MSG <name> <message>` (create_thin, create_snap, delete, …). They are counted
//     inside libdevmapper's binding: the import of `koffi` is redirected (module.registerHooks) to
//     a wrapper whose `load(...).func(...)` wraps dm_task_create/set_name/set_message/run/destroy;
//   - a program started (`spawn mkfs.ext4 …`, `spawn mount …`, `spawn thin_ls …`);
//   - a change of the filesystem under CONVOY_DMKILL_ROOT: rename (the commit of every atomic file
//     write: the driver's state.json, the manager's mount references), mkdir, rm, rmdir, unlink.
// Steps are counted only while the hook is armed: the test writes a plan to CONVOY_DMKILL_PLAN
// ({"step": N} to die just before step N runs; {"step": null} to count only) and sends SIGUSR2;
// the hook answers `dm-kill-hook: armed` on stderr, then tells each step as
// `dm-kill-hook: step N <what>` and the kill as `dm-kill-hook: kill at step N`. The kill is
// SIGKILL of the daemon's process group (the test starts it as a group leader): an mkfs or mount
// it started dies with it. Nothing changes while the hook is not armed.
import childProcess from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { flushCompileCache, registerHooks, syncBuiltinESMExports } from 'node:module';
import path from 'node:path';

const root = process.env.CONVOY_DMKILL_ROOT;
const planFile = process.env.CONVOY_DMKILL_PLAN;
if (root === undefined || planFile === undefined || !path.isAbsolute(root)) {
  throw new Error('dm-kill-hook.ts: set CONVOY_DMKILL_ROOT (an absolute directory) and CONVOY_DMKILL_PLAN (a file)');
}

let armed = false;
let plan: { step: number | null } = { step: null };
let steps = 0;
let dying = false;

const say = (line: string): void => {
  fs.writeSync(2, `dm-kill-hook: ${line}\n`);
};

process.on('SIGUSR2', () => {
  // the daemon is up by now: write V8's code cache of its modules (NODE_COMPILE_CACHE) while it can,
  // since a process killed with SIGKILL never writes it at exit
  flushCompileCache();
  plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as { step: number | null };
  armed = true;
  steps = 0;
  say(`armed ${JSON.stringify(plan)}`);
});

/** Counts a step; dies (SIGKILL of the process group) before it runs when it is the planned one. */
function step(what: string): void {
  if (!armed || dying) return;
  steps++;
  say(`step ${steps} ${what}`);
  if (plan.step !== steps) return;
  dying = true;
  say(`kill at step ${steps}`);
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    process.kill(process.pid, 'SIGKILL');
  }
}

// ---- device-mapper ioctls (libdevmapper through koffi) ------------------------------------------

/** libdevmapper's task types (dm-api.ts DmTask) that change something, by number. */
const MUTATING = new Map<number, string>([
  [0, 'CREATE'],
  [1, 'RELOAD'],
  [2, 'REMOVE'],
  [4, 'SUSPEND'],
  [5, 'RESUME'],
  [17, 'TARGET_MSG'],
]);
const tasks = new Map<bigint, { type: number; name: string; message: string }>();

type NativeFn = (...args: unknown[]) => unknown;
const wrappers: Record<string, (f: NativeFn) => NativeFn> = {
  dm_task_create: (f) => (type) => {
    const t = f(type);
    if (typeof t === 'bigint') tasks.set(t, { type: Number(type), name: '', message: '' });
    return t;
  },
  dm_task_set_name: (f) => (t, name) => {
    const task = tasks.get(t as bigint);
    if (task !== undefined) task.name = String(name);
    return f(t, name);
  },
  dm_task_set_message: (f) => (t, message) => {
    const task = tasks.get(t as bigint);
    if (task !== undefined) task.message = String(message);
    return f(t, message);
  },
  dm_task_run: (f) => (t) => {
    const task = tasks.get(t as bigint);
    const op = task === undefined ? undefined : MUTATING.get(task.type);
    if (task !== undefined && op !== undefined) step(`dm ${op} ${task.name}${task.message === '' ? '' : ` ${task.message}`}`);
    return f(t);
  },
  dm_task_destroy: (f) => (t) => {
    tasks.delete(t as bigint);
    return f(t);
  },
};

/** `wrap(lib.func(decl), decl)`: the function itself, or a counting wrapper for the dm_task_* above. */
function wrapFunc(fn: NativeFn, decl: unknown): NativeFn {
  const name = /\b(dm_task_\w+)\s*\(/.exec(String(decl))?.[1];
  const wrap = name === undefined ? undefined : wrappers[name];
  return wrap === undefined ? fn : wrap(fn);
}
(globalThis as Record<symbol, unknown>)[Symbol.for('convoy.dmkill.wrapFunc')] = wrapFunc;

// `import … from 'koffi'` anywhere but in the wrapper resolves to the wrapper: koffi's own exports,
// with `load` returning a library whose `func` goes through wrapFunc.
const WRAPPER = 'convoy-dmkill:koffi';
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === 'koffi' && context.parentURL?.startsWith(WRAPPER) !== true) {
      const real = next(specifier, context);
      return { url: `${WRAPPER}?${encodeURIComponent(real.url)}`, format: 'module', shortCircuit: true };
    }
    return next(specifier, context);
  },
  load(url, context, next) {
    if (!url.startsWith(`${WRAPPER}?`)) return next(url, context);
    const real = JSON.stringify(decodeURIComponent(url.slice(WRAPPER.length + 1)));
    const source = `import * as real from ${real};
export * from ${real};
export default real.default;
const wrapFunc = globalThis[Symbol.for('convoy.dmkill.wrapFunc')];
export function load(...args) {
  const lib = real.load(...args);
  return new Proxy(lib, {
    get(target, prop) {
      if (prop === 'func') return (...d) => wrapFunc(target.func(...d), d[0]);
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
`;
    return { format: 'module', source, shortCircuit: true };
  },
});

// ---- programs and filesystem changes ------------------------------------------------------------

type AnyFn = (...args: unknown[]) => unknown;
const under = (target: unknown): string | undefined => {
  const where = typeof target === 'string' ? target : target instanceof URL ? target.pathname : undefined;
  if (where === undefined) return undefined;
  const abs = path.resolve(where);
  return abs === root || abs.startsWith(`${root}/`) ? path.relative(root, abs) : undefined;
};
const table = fsp as unknown as Record<string, AnyFn>;
for (const name of ['rename', 'mkdir', 'rm', 'rmdir', 'unlink']) {
  const original = table[name] as AnyFn;
  table[name] = function (this: unknown, ...args: unknown[]) {
    const rel = under(name === 'rename' ? args[1] : args[0]);
    if (rel !== undefined) step(`${name} ${rel}`);
    return original.apply(this, args);
  };
}
const cp = childProcess as unknown as Record<string, AnyFn>;
const spawn = cp.spawn as AnyFn;
cp.spawn = function (this: unknown, ...args: unknown[]) {
  const argv = Array.isArray(args[1]) ? (args[1] as unknown[]).map(String) : [];
  step(`spawn ${String(args[0])} ${argv.join(' ')}`.trim());
  return spawn.apply(this, args);
};
syncBuiltinESMExports();
