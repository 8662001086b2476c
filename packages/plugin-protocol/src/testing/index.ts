export { MemoryVolumeBackend, type BackendCall, type BackendMethod, type MemoryBackendOptions } from './memory-backend.js';
