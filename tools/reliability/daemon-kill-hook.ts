// Preloaded into convoy-daemon by the daemon campaign (`node --import daemon-kill-hook.ts
// apps/daemon/bin/convoy-daemon.cjs …`): it lets a trial kill the daemon with SIGKILL at an exact
// step of one operation, so the kill points cover every durable state an operation passes
// through, not only the ones a timer happens to hit.
//
// A step is a call that changes the filesystem under CONVOY_RELIABILITY_STEP_ROOT (open for
// writing, rename, link, unlink, mkdir, rm, …) or starts a program (cp, tar, sync). Steps are
// counted only while the hook is armed: the campaign writes a plan to CONVOY_RELIABILITY_KILL_PLAN
// ({"step": N, "delayMs": D} to die at step N, D ms later; {"step": null} to count only), then
// sends SIGUSR2; the hook reads the plan, starts counting from zero and answers
// `reliability-hook: armed` on stderr (or CONVOY_RELIABILITY_KILL_AT_START holds a plan armed from
// the process's start, to kill a restart during its recovery). Each step is told on stderr as
// `reliability-hook: step N <call> <path>`, and the kill as `reliability-hook: kill at step N`.
// The kill is SIGKILL of the daemon's whole process group (the campaign starts the daemon as a
// group leader), as systemd's KillMode=control-group does when the daemon dies: a cp or tar it
// started dies with it; or, with "processOnly", of the daemon alone, as a hand-made `kill -9 PID`
// (its cp or tar runs on). Nothing is changed when the hook is not armed.
import childProcess from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';

const root = process.env.CONVOY_RELIABILITY_STEP_ROOT;
const planFile = process.env.CONVOY_RELIABILITY_KILL_PLAN;
if (root === undefined || planFile === undefined || !path.isAbsolute(root)) {
  throw new Error(
    'daemon-kill-hook.ts: set CONVOY_RELIABILITY_STEP_ROOT (an absolute directory) and CONVOY_RELIABILITY_KILL_PLAN (a file)',
  );
}

interface Plan {
  step: number | null;
  delayMs?: number;
  /** Kill only the daemon, not the programs it started (a hand-made `kill -9 PID`). */
  processOnly?: boolean;
}

let armed = false;
let plan: Plan = { step: null };
let steps = 0;
let dying = false;

const say = (line: string): void => {
  fs.writeSync(2, `reliability-hook: ${line}\n`);
};

// Armed from the start (CONVOY_RELIABILITY_KILL_AT_START holds the plan): a restart killed during its own recovery.
const atStart = process.env.CONVOY_RELIABILITY_KILL_AT_START;
if (atStart !== undefined && atStart !== '') {
  plan = JSON.parse(atStart) as Plan;
  armed = true;
}

process.on('SIGUSR2', () => {
  plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as Plan;
  armed = true;
  steps = 0;
  say(`armed ${JSON.stringify(plan)}`);
});

function die(): void {
  if (dying) return;
  dying = true;
  say(`kill at step ${steps}`);
  if (plan.processOnly === true) process.kill(process.pid, 'SIGKILL');
  try {
    process.kill(-process.pid, 'SIGKILL'); // the group: the daemon and what it started
  } catch {
    process.kill(process.pid, 'SIGKILL');
  }
}

function step(call: string, target: unknown): void {
  if (!armed || dying) return;
  const where = typeof target === 'string' ? target : target instanceof URL ? target.pathname : undefined;
  if (call !== 'spawn' && (where === undefined || !path.resolve(where).startsWith(root as string))) return;
  steps++;
  say(`step ${steps} ${call} ${call === 'spawn' ? String(target) : path.relative(root as string, path.resolve(where as string))}`);
  if (plan.step !== steps) return;
  if ((plan.delayMs ?? 0) <= 0) die();
  else setTimeout(die, plan.delayMs);
}

const writes = (flags: unknown): boolean =>
  typeof flags === 'number'
    ? (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC)) !== 0
    : typeof flags === 'string' && /[wa+]/.test(flags);

type AnyFn = (...args: unknown[]) => unknown;
const table = fsp as unknown as Record<string, AnyFn>;
for (const name of [
  'writeFile',
  'appendFile',
  'rename',
  'link',
  'symlink',
  'unlink',
  'rm',
  'rmdir',
  'mkdir',
  'mkdtemp',
  'copyFile',
  'cp',
  'truncate',
]) {
  const original = table[name];
  if (original === undefined) continue;
  table[name] = function (this: unknown, ...args: unknown[]) {
    step(name, name === 'rename' || name === 'link' || name === 'copyFile' || name === 'cp' ? args[1] : args[0]);
    return original.apply(this, args);
  };
}
const open = table.open as AnyFn;
table.open = function (this: unknown, ...args: unknown[]) {
  if (writes(args[1])) step('open', args[0]);
  return open.apply(this, args);
};
const cp = childProcess as unknown as Record<string, AnyFn>;
const spawn = cp.spawn as AnyFn;
cp.spawn = function (this: unknown, ...args: unknown[]) {
  step('spawn', args[0]);
  return spawn.apply(this, args);
};
syncBuiltinESMExports();
