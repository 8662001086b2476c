// Vitest global setup of the campaigns: starts each run with an empty results file and, when the
// run ends, writes the report (report.ts) from the trial records and vitest's own counts.
import fs from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { runConfig } from './config.js';
import { readRecords, writeReport } from './report.js';
import { codeState, runMeta } from './report-meta.js';

export function setup(project: TestProject): () => void {
  const config = runConfig();
  const startedAt = new Date();
  const code = codeState(); // at the start: the CLI under test is the build of this tree
  fs.mkdirSync(path.dirname(config.resultsFile), { recursive: true });
  fs.writeFileSync(config.resultsFile, '');
  process.stderr.write(`[reliability] seed ${config.seed}, size ${config.size.name}; records in ${config.resultsFile}\n`);
  return () => {
    const tests = { passed: 0, failed: 0, skipped: 0 };
    for (const module of project.vitest.state.getTestModules()) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') tests.passed++;
        else if (state === 'failed') tests.failed++;
        else tests.skipped++;
      }
    }
    const meta = runMeta(config, startedAt, code, tests);
    fs.writeFileSync(`${config.resultsFile}.meta.json`, `${JSON.stringify(meta)}\n`); // for reliability.ts --render-only
    writeReport(config.reportFile, meta, readRecords(config.resultsFile));
    process.stderr.write(`[reliability] seed ${config.seed}: report written to ${config.reportFile}\n`);
  };
}
