import { objectStoreConformance } from './conformance.js';
import { FaultyObjectStore } from './faulty-store.js';
import { MemoryObjectStore } from './memory-store.js';

objectStoreConformance('memory', {
  create: async () => new MemoryObjectStore(),
  createBroken: async () =>
    new FaultyObjectStore(new MemoryObjectStore(), [
      { op: 'get', kind: 'error' },
      { op: 'put', kind: 'error' },
      { op: 'stat', kind: 'error' },
      { op: 'list', kind: 'error' },
    ]),
});

objectStoreConformance('faulty wrapper without faults', {
  create: async () => new FaultyObjectStore(new MemoryObjectStore()),
  large: false,
});
