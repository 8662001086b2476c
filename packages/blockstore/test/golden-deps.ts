export { BlockMap, SHA256, encodeBlock, type Manifest } from '../src/index.js';
export { encodeManifest as encodeManifestForTest } from '../src/format/manifest.js';
export { encodeRefFile } from '../src/format/ref-file.js';
export { encodeHeader, DEFAULT_GC } from '../src/format/header.js';
