import fs from 'node:fs/promises';
import { ConfigError } from './config.js';

/** A group name or number → gid (from /etc/group). */
export async function resolveGroup(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const text = await fs.readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new ConfigError(`unknown group "${group}"`, 'create it (groupadd) or give a gid');
}
