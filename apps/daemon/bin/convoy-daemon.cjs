#!/usr/bin/env node
// Installed as convoy-daemon. Runs ../dist/main.js (written by the build: npm start / nx build) on Node
// >= 22.15, re-running itself on the project's pinned Node when the `node` on PATH is older.
require('@convoy/cli-kit/launch').launch('convoy-daemon', __filename, require('path').join(__dirname, '..', 'dist', 'main.js'));
