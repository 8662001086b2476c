#!/usr/bin/env node
// Installed as convoy; the build (npm start / nx build) writes dist/.
import "../dist/main.js";
