export { KeyedLock } from './keyed-lock.js';
export {
  MountRefCounter,
  type AddResult,
  type MountRefCounterOptions,
  type MountRefListener,
  type MountRefState,
  type RemoveResult,
} from './ref-counter.js';
export {
  MAX_SOCKET_PATH_BYTES,
  checkSocketPath,
  prepareSocket,
  unlinkIfOurs,
  type PreparedSocket,
  type SocketIdentity,
} from './socket-file.js';
export { listenUnixHttp, type UnixHttpOptions } from './unix-http.js';
export { answerClientErrors } from './client-errors.js';
export { MountStateInvalidError, SocketInUseError, SocketPathError } from './errors.js';
export { writeFileAtomic } from './atomic-file.js';
export { execQuiet, execText, type ExecOptions } from './exec.js';
