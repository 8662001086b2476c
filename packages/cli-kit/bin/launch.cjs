'use strict';
// The start of every convoy bin (convoy, convoy-daemon, convoy-backup): runs the bin's
// dist/main.js on a Node new enough for it, whatever `node` is first on PATH.
//
// - On a Node >= MINIMUM it imports main.js in this process.
// - On an older Node it runs the bin again on the project's pinned Node: $CONVOY_NODE if set,
//   else node_modules/node/bin/node (the `node` devDependency, or the copy tools/install.sh puts in
//   /usr/lib/convoy) in the bin's directory or any above it. Signals are passed on, the exit
//   status (or the signal that ended it) is passed back.
// - Where there is none, it prints one line naming the Node it needs and how to get it, exit 1.
//
// CommonJS with nothing newer than Node 12 understands, so that an old Node gets this far.
const fs = require('fs');
const path = require('path');
const childProcess = require('child_process');
const url = require('url');

/** The root package.json's `engines.node` (a test checks that they agree). */
const MINIMUM = [22, 15]; // node:zlib zstd (block objects and block maps) arrived in 22.15
const MINIMUM_TEXT = MINIMUM.join('.');
/** Set in the environment of the re-executed bin: a pinned Node that is too old ends there. */
const RELAUNCHED = 'CONVOY_LAUNCHED_BY';

function supported(version) {
  const parts = String(version).replace(/^v/, '').split('.').map(Number);
  return parts[0] > MINIMUM[0] || (parts[0] === MINIMUM[0] && parts[1] >= MINIMUM[1]);
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** $CONVOY_NODE, else the nearest node_modules/node/bin/node above the bin's real location. */
function pinnedNode(binFile, env) {
  if (env.CONVOY_NODE) return env.CONVOY_NODE;
  let dir = path.dirname(fs.realpathSync(binFile));
  for (;;) {
    const candidate = path.join(dir, 'node_modules', 'node', 'bin', 'node');
    if (isExecutable(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Whether this process is in the foreground process group of its terminal: then a Ctrl-C (SIGINT,
 * SIGQUIT) or a hangup reached the child as well, and passing it on would deliver it twice.
 */
function inForeground() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[2] = pgrp, fields[4] = tty_nr, fields[5] = tpgid (proc(5), counting from "state")
    return fields[4] !== '0' && fields[2] === fields[5];
  } catch {
    return false;
  }
}

function tooOld(name, binFile, pinned) {
  const found = pinned
    ? `the pinned Node ${process.execPath} is ${process.version}`
    : `${process.execPath} is ${process.version} and no pinned Node is in node_modules/node/bin above ${path.dirname(binFile)}`;
  process.stderr.write(
    `${name}: needs Node.js >= ${MINIMUM_TEXT}, but ${found}: run \`npm ci\` in the convoy checkout (it installs Node 24 ` +
      `into node_modules), install convoy with tools/install.sh, or set CONVOY_NODE=/path/to/node\n`,
  );
  process.exit(1);
}

function relaunch(name, binFile, node) {
  const env = Object.assign({}, process.env);
  env[RELAUNCHED] = process.execPath;
  const child = childProcess.spawn(node, [fs.realpathSync(binFile)].concat(process.argv.slice(2)), { stdio: 'inherit', env: env });
  const terminalSignals = ['SIGINT', 'SIGQUIT', 'SIGHUP'];
  const forward = (signal) => {
    if (terminalSignals.indexOf(signal) >= 0 && inForeground()) return; // the child has it already
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const signals = ['SIGTERM', 'SIGUSR2'].concat(terminalSignals);
  for (const s of signals) process.on(s, forward);
  child.once('error', (err) => {
    process.stderr.write(`${name}: cannot run ${node}: ${err.message}\n`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    for (const s of signals) process.removeListener(s, forward);
    if (signal !== null) {
      process.kill(process.pid, signal); // end the way the child ended
      return;
    }
    process.exit(code === null ? 1 : code);
  });
}

/** Runs `main` (the bin's dist/main.js) for the bin `binFile` (its __filename), named `name` in messages. */
function launch(name, binFile, main) {
  if (supported(process.versions.node)) {
    import(url.pathToFileURL(main).href).catch((err) => {
      process.nextTick(() => {
        throw err;
      });
    });
    return;
  }
  if (process.env[RELAUNCHED]) tooOld(name, binFile, true);
  const node = pinnedNode(binFile, process.env);
  if (node === undefined) tooOld(name, binFile, false);
  relaunch(name, binFile, node);
}

module.exports = { launch, supported, pinnedNode, MINIMUM: MINIMUM_TEXT };
