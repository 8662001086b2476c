#!/usr/bin/env node
// Installed as convoy-daemon; the build (npm start / nx build) writes dist/.
import "../dist/main.js";
