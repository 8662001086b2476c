export * from './types.js';
export {
  BackendContractError,
  InvalidRequestError,
  InvalidResponseError,
  MountStateInvalidError,
  PluginTimeoutError,
  RequestTooLargeError,
  SocketInUseError,
  SocketPathError,
  UnknownEndpointError,
  VolumeInUseError,
  VolumeNotFoundError,
} from './errors.js';
export {
  MAX_MOUNT_ID_LENGTH,
  parseBody,
  parseEndpoint,
  parseRequest,
  validateMountId,
  validateOpts,
} from './validate.js';
export { MountRefCounter, type AddResult, type MountRefCounterOptions, type MountRefListener, type MountRefState, type RemoveResult } from './ref-counter.js';
export {
  DEFAULT_HANDLER_TIMEOUT_MS,
  createPluginHandler,
  toVolumeInfo,
  type PluginErrorEvent,
  type PluginHandler,
  type PluginHandlerOptions,
  type PluginResponse,
} from './handler.js';
export { errMessage } from './err-message.js';
export { DEFAULT_BODY_LIMIT, listenPluginSocket, listenUnixHttp, type PluginServer, type PluginSocketOptions, type UnixHttpOptions } from './server.js';
export { PluginClient, type PluginClientOptions, type RawReply } from './client.js';
export { KeyedLock } from './keyed-lock.js';
