export { DEFAULT_CHUNKER_PARAMS, chunkerParamsSchema, parseChunkerParams, type ChunkerParams } from './params.js';
export { gearTable } from './gear.js';
export { chunkLengths, chunkStream, createChunker, scanConfig, type Chunk, type ChunkOptions } from './chunk-stream.js';
export { CutterPool, type CutterPoolOptions } from './pool.js';
export { scanCuts, START_STATE, type ScanConfig, type ScanState } from './scan.js';
