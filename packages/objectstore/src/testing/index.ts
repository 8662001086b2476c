export { objectStoreConformance, type ConformanceOptions } from './conformance.js';
export { MemoryObjectStore } from './memory-store.js';
export {
  FaultyObjectStore,
  InjectedFault,
  type FaultKind,
  type FaultRule,
  type OtherFaultRule,
  type PauseFaultRule,
  type StoreOp,
} from './faulty-store.js';
export { Gate } from './gate.js';
export { s3TestEnvironment, type S3TestEnvironment } from './s3-env.js';
export { rejectionOf } from './rejection.js';
