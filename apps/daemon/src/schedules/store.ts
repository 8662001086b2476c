// Schedule policies on disk: <root>/schedules/<volume>.json, each written atomically (temp file +
// fsync + rename); a record that does not parse is an error naming the file, never "no schedule".
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '@convoy/daemon-kit';
import { ConvoyError, errorCode } from '@convoy/errors';
import { parseJsonBytes } from '@convoy/objectstore';
import { schedulePolicySchema, type SchedulePolicy } from './policy.js';

export class ScheduleStore {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, 'schedules');
  }

  file(volume: string): string {
    return path.join(this.dir, `${volume}.json`);
  }

  async save(p: SchedulePolicy): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file(p.volume), `${JSON.stringify(p, null, 2)}\n`);
  }

  async remove(volume: string): Promise<boolean> {
    try {
      await fs.rm(this.file(volume));
      return true;
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return false;
      throw err;
    }
  }

  /** Every policy; a damaged file is CONVOY_STATE_INVALID naming it. */
  async all(): Promise<SchedulePolicy[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return [];
      throw err;
    }
    const out: SchedulePolicy[] = [];
    for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
      const file = path.join(this.dir, n);
      let problem: string;
      try {
        const parsed = schedulePolicySchema.safeParse(parseJsonBytes(await fs.readFile(file)));
        if (parsed.success && `${parsed.data.volume}.json` === n) {
          out.push(parsed.data);
          continue;
        }
        problem = parsed.success ? `it is the policy of volume ${parsed.data.volume}` : (parsed.error.issues[0]?.message ?? 'invalid');
      } catch (err) {
        problem = (err as Error).message;
      }
      throw new ConvoyError('CONVOY_STATE_INVALID', `the schedule ${file} is not valid (${problem})`, {
        hint: 'repair it, or remove it and schedule the volume again (convoy backup schedule)',
        details: { file },
      });
    }
    return out;
  }
}
