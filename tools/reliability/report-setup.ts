// Vitest global setup of the campaigns: starts each run with an empty results file and, when the
// run ends, writes the report from the trial records (report.ts).
import fs from 'node:fs';
import path from 'node:path';
import { runConfig } from './config.js';

export function setup(): () => Promise<void> {
  const config = runConfig();
  fs.mkdirSync(path.dirname(config.resultsFile), { recursive: true });
  fs.writeFileSync(config.resultsFile, '');
  return async () => {
    const { writeReport } = await import('./report.js');
    await writeReport(config);
  };
}
