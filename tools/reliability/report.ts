import type { RunConfig } from './config.js';
export async function writeReport(config: RunConfig): Promise<void> {
  process.stderr.write(`report: ${config.resultsFile}\n`);
}
