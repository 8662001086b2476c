export { MAX_NAME_LENGTH, NAME_RULE, isValidName, nameProblem, validateSnapshotName, validateVolumeName } from './names.js';
export { formatSize, parseSize } from './sizes.js';
export { OPTION_KEY, OPTION_KEY_RULE, parseKeyValues, type PairProblem } from './options.js';
