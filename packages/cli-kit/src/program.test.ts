import { ConvoyError } from '@convoy/errors';
import { describe, expect, it } from 'vitest';
import { InterruptedError, usageError } from './errors.js';
import type { CliCommand } from './io.js';
import { Output } from './output.js';
import { packageVersion, programParser, runCommand, selectCommand, withCommands, type CliProgram } from './program.js';
import { inProcess, lastJson, type ErrorJson } from './testing/index.js';

class Stopped extends InterruptedError {
  constructor(signal: string, exitCode: number) {
    super(signal, exitCode, { message: 'nothing changed', hint: 'run it again' });
  }
}

const base: CliProgram = {
  name: 'tool',
  version: '1.2.3',
  commands: ['run', 'group'],
  repeatable: ['tag'],
  interrupted: (signal, exitCode) => new Stopped(signal, exitCode),
};

type Ctx = { out: Output; value: string | undefined };
const COMMANDS: CliCommand<Ctx>[] = [
  {
    register: (y, select) =>
      y
        .command(
          'run <value>',
          'Run',
          (b) =>
            b
              .positional('value', { type: 'string', demandOption: true })
              .option('tag', { type: 'string', array: true, nargs: 1 })
              .option('mode', { type: 'string' }),
          (args) =>
            select(
              async (ctx) =>
                ctx.value === 'fail'
                  ? Promise.reject(new ConvoyError('CONVOY_INVALID_ARGUMENT', 'bad value'))
                  : ctx.value === 'corrupt'
                    ? Promise.reject(new ConvoyError('CONVOY_MANIFEST_INVALID', 'manifest m is damaged'))
                    : 0,
              args,
            ),
        )
        .command(
          'group <command>',
          'A group',
          (b) =>
            b
              .command(
                'list',
                'List',
                () => undefined,
                (args) => select(async () => 0, args),
              )
              .demandCommand(1, 'name one'),
          () => undefined,
        ),
  },
];

/** A runCli made of the kit's pieces, as the CLIs make theirs. */
const runWith =
  (program: CliProgram) =>
  async (argv: readonly string[], io: Parameters<Parameters<typeof inProcess>[0]>[1]): Promise<number> => {
    const selected = await selectCommand<Ctx>(program, io, argv, (select) =>
      withCommands(programParser(program, 'A tool.').option('json', { type: 'boolean', global: true }), program, COMMANDS, select),
    );
    if (typeof selected === 'number') return selected;
    const out = new Output(io, { program: program.name, json: selected.args.json === true });
    const value = typeof selected.args.value === 'string' ? selected.args.value : undefined;
    return runCommand(program, out, io.signal, () => selected.run({ out, value }));
  };

describe('selectCommand and runCommand', () => {
  const cli = inProcess(runWith(base));

  it('prints help and version (exit 0) and runs the selected command', async () => {
    expect((await cli(['--help'])).stdout).toMatch(/^tool <command> \[options\]\n\nA tool\.\n/);
    expect(await cli(['--version'])).toMatchObject({ code: 0, stdout: '1.2.3\n' });
    expect(await cli(['run', 'x', '--tag', 'a', '--tag', 'b'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('reports a refused command line with a --help hint naming the command: exit 2', async () => {
    expect(await cli(['run', 'x', '--mode', 'a', '--mode', 'b'])).toMatchObject({
      code: 2,
      stderr: 'tool: --mode is given more than once\nhint: run "tool run --help"\n',
    });
    expect((await cli([])).stderr).toBe('tool: name a command: run, group\nhint: run "tool --help"\n');
    expect((await cli(['rnu'])).stderr).toMatch(/^tool: Did you mean run\?\n/);
    const json = await cli(['run', '--json']);
    expect(json.code).toBe(2);
    expect(lastJson<ErrorJson>(json).error).toMatchObject({ code: 'CONVOY_USAGE', hint: 'run "tool run --help"' });
  });

  it('hintDepth and explainUnknownCommand: the hint names subcommands, an unknown word is named', async () => {
    const deep = inProcess(runWith({ ...base, commands: ['run', 'group', 'list'], hintDepth: 2, explainUnknownCommand: true }));
    expect((await deep(['group', 'list', '--bogus'])).stderr).toMatch(/\nhint: run "tool group list --help"\n$/);
    expect((await deep(['rnu'])).stderr).toMatch(/^tool: unknown command "rnu"\. Did you mean run\?\n/);
  });

  it('a completion command only when the program has one', async () => {
    expect((await cli(['completion'])).code).toBe(2);
    const withCompletion = inProcess(runWith({ ...base, completion: 'Print a completion script' }));
    expect((await withCompletion(['completion'])).stdout).toContain('tool --get-yargs-completions');
    // every command: the shell script filters by the typed prefix
    expect((await withCompletion(['--get-yargs-completions', 'tool', 'r'])).lines).toEqual(['completion', 'run', 'group']);
  });

  it('maps failures to exit codes, and an abort to the InterruptedError main.ts gave', async () => {
    expect(await cli(['run', 'fail'])).toMatchObject({ code: 2, stderr: 'tool: bad value\nhint: see --help for the accepted values\n' });
    expect(await cli(['run', 'corrupt'])).toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/^tool: manifest m is damaged\nhint: run `convoy-backup verify STORE`/),
    });
    const aborted = new AbortController();
    aborted.abort(new Stopped('SIGTERM', 143));
    expect(await cli(['run', 'fail'], { signal: aborted.signal })).toMatchObject({
      code: 143,
      stderr: 'tool: interrupted by SIGTERM; nothing changed\nhint: run it again\n',
    });
    const plain = new AbortController();
    plain.abort();
    expect(await cli(['run', 'fail'], { signal: plain.signal })).toMatchObject({
      code: 130,
      stderr: expect.stringMatching(/^tool: interrupted by an abort request; /),
    });
  });

  it('a usage error thrown by the command exits 2 too', async () => {
    const out = new Output(
      { stdout: process.stdout, stderr: { write: () => true } as unknown as NodeJS.WritableStream, isTTY: false, env: {} },
      { program: 'tool', json: false },
    );
    expect(await runCommand(base, out, undefined, () => Promise.reject(usageError('no')))).toBe(2);
  });
});

describe('packageVersion', () => {
  it('reads the version two directories up when the bundle runs one directory deeper', async () => {
    const { mkdtemp, mkdir, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { pathToFileURL } = await import('node:url');
    const root = await mkdtemp(join(tmpdir(), 'cli-kit-version-'));
    try {
      await mkdir(join(root, 'dist', 'bundle'), { recursive: true });
      await writeFile(join(root, 'package.json'), '{ "name": "app", "version": "4.5.6" }');
      // What `new URL('../package.json', import.meta.url)` gives from dist/main.js and from dist/bundle/main.js:
      expect(packageVersion(new URL('../package.json', pathToFileURL(join(root, 'dist', 'main.js'))))).toBe('4.5.6');
      expect(packageVersion(new URL('../package.json', pathToFileURL(join(root, 'dist', 'bundle', 'main.js'))))).toBe('4.5.6');
      await writeFile(join(root, 'dist', 'package.json'), '{ "type": "module" }'); // no version: looks further up
      expect(packageVersion(new URL('../package.json', pathToFileURL(join(root, 'dist', 'bundle', 'main.js'))))).toBe('4.5.6');
      await writeFile(join(root, 'dist', 'package.json'), '{ "version": "7.0.0" }');
      expect(packageVersion(new URL('../package.json', pathToFileURL(join(root, 'dist', 'bundle', 'main.js'))))).toBe('7.0.0');
      await writeFile(join(root, 'dist', 'package.json'), '{ garbage');
      expect(() => packageVersion(new URL('../package.json', pathToFileURL(join(root, 'dist', 'bundle', 'main.js'))))).toThrow(SyntaxError);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
