#!/usr/bin/env node
// Installed as convoy-backup; the build (npm start / nx build) writes dist/.
import "../dist/main.js";
