// The docker CLI for the end-to-end tests, and the cleanup that keeps dockerd free of references
// to convoy volumes (a plugin that is down makes `docker volume ls` block ~15 s and delays
// dockerd's start by 15 s per volume it still knows).
import { spawn } from 'node:child_process';
import { CONTAINER_LABEL, IMAGE } from './env.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Milliseconds it took. */
  ms: number;
}

const DOCKER = process.env.CONVOY_TEST_DOCKER_CLI ?? 'docker';
const DEFAULT_TIMEOUT_MS = 90_000;

/** Runs `docker ARGS`; never rejects on a non-zero exit (see dockerOk). */
export function docker(args: readonly string[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<CommandResult> {
  return runCommand(DOCKER, args, timeoutMs);
}

/** Runs `docker ARGS` and resolves to its trimmed stdout; rejects with its stderr when it fails. */
export async function dockerOk(args: readonly string[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
  const r = await docker(args, timeoutMs);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

/** `docker run --rm --network none -v VOLUME:/data IMAGE sh -c SCRIPT` → its stdout. */
export function runInVolume(volume: string, script: string): Promise<string> {
  return dockerOk(['run', '--rm', '--network', 'none', '--label', CONTAINER_LABEL, '-v', `${volume}:/data`, IMAGE, 'sh', '-c', script]);
}

export interface DockerVolume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Scope: string;
  Status?: Record<string, unknown>;
}

export async function inspectVolume(name: string): Promise<DockerVolume> {
  const [v] = JSON.parse(await dockerOk(['volume', 'inspect', name])) as DockerVolume[];
  if (v === undefined) throw new Error(`docker volume inspect ${name} returned nothing`);
  return v;
}

/** Names of the convoy volumes `docker volume ls` shows. */
export async function convoyVolumesInDocker(): Promise<string[]> {
  const out = await dockerOk(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']);
  return out
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([driver, name]) => driver === 'convoy' && name !== undefined)
    .map(([, name]) => name as string);
}

/**
 * Removes every test container (by label) and every convoy volume Docker knows, plus the volumes
 * named. Call it while the daemon serving the plugin socket is still up: Docker asks the plugin.
 * Errors are collected, not thrown, so afterAll always goes on to stop the daemon.
 */
export async function cleanDocker(volumes: Iterable<string> = []): Promise<string[]> {
  const problems: string[] = [];
  const containers = (await docker(['ps', '-aq', '--filter', `label=${CONTAINER_LABEL}`])).stdout.trim();
  if (containers !== '') {
    const r = await docker(['rm', '-f', ...containers.split('\n')]);
    if (r.code !== 0) problems.push(`docker rm -f: ${r.stderr.trim()}`);
  }
  const names = new Set(volumes);
  try {
    for (const n of await convoyVolumesInDocker()) names.add(n);
  } catch (err) {
    problems.push(`docker volume ls: ${(err as Error).message}`);
  }
  for (const n of names) {
    const r = await docker(['volume', 'rm', '-f', n]);
    if (r.code !== 0) problems.push(`docker volume rm -f ${n}: ${r.stderr.trim()}`);
  }
  return problems;
}

export function runCommand(
  command: string,
  args: readonly string[],
  timeoutMs: number,
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  const began = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? 1 : 128), stdout, stderr, ms: Date.now() - began });
    });
  });
}
