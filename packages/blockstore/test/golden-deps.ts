export { BlockMap, SHA256, encodeBlock, type Manifest } from '../src/index.js';
export { encodeManifest as encodeManifestForTest } from '../src/format/manifest.js';
