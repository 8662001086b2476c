import { ConvoyError } from '@convoy/errors';

/** The longest volume or snapshot name: it becomes part of object keys, URLs and file names. */
export const MAX_NAME_LENGTH = 128;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** What names must look like, in the words every error uses. */
export const NAME_RULE = `1-${MAX_NAME_LENGTH} characters of A-Z a-z 0-9 _ . - that start with a letter or digit and hold no ".."`;

/** Why `name` is not a valid name, or undefined when it is. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `a name must be a string, not ${name === null ? 'null' : typeof name}`;
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX_NAME_LENGTH) return `it is ${name.length} characters long, more than ${MAX_NAME_LENGTH}`;
  if (!/^[A-Za-z0-9]/.test(name)) return 'it does not start with a letter or digit';
  if (!NAME.test(name)) return 'it holds characters other than A-Z a-z 0-9 _ . -';
  if (name.includes('..')) return 'it holds ".."';
  return undefined;
}

const shown = (name: unknown): string =>
  typeof name === 'string' ? JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name) : String(name);

/**
 * The one rule for volume names, everywhere: Docker's plugin requests, the control API, the CLIs,
 * the drivers and the backup store. Throws CONVOY_VOLUME_NAME_INVALID saying which part of the
 * rule `name` breaks.
 */
export function validateVolumeName(name: unknown): asserts name is string {
  const problem = nameProblem(name);
  if (problem !== undefined) {
    throw new ConvoyError('CONVOY_VOLUME_NAME_INVALID', `invalid volume name ${shown(name)}: ${problem}`, {
      hint: `volume names are ${NAME_RULE}`,
      details: { rule: NAME_RULE },
    });
  }
}

/** The same rule for snapshot names (CONVOY_SNAPSHOT_NAME_INVALID). */
export function validateSnapshotName(name: unknown): asserts name is string {
  const problem = nameProblem(name);
  if (problem !== undefined) {
    throw new ConvoyError('CONVOY_SNAPSHOT_NAME_INVALID', `invalid snapshot name ${shown(name)}: ${problem}`, {
      hint: `snapshot names are ${NAME_RULE}`,
      details: { rule: NAME_RULE },
    });
  }
}

export const isValidName = (name: unknown): name is string => nameProblem(name) === undefined;
