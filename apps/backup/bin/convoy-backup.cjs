#!/usr/bin/env node
// Installed as convoy-backup. Runs ../dist/bundle/main.js (the build's bundle of dist/main.js: npm
// start / nx build; tools/bundle-app.mjs) on Node >= 22.15, re-running itself on the project's
// pinned Node when the `node` on PATH is older.
require('@convoy/cli-kit/launch').launch('convoy-backup', __filename, require('path').join(__dirname, '..', 'dist', 'bundle', 'main.js'));
