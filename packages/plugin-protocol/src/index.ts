export * from './types.js';
export {
  BackendContractError,
  InvalidRequestError,
  InvalidResponseError,
  PluginTimeoutError,
  RequestTooLargeError,
  UnknownEndpointError,
  VolumeInUseError,
  VolumeNotFoundError,
} from './errors.js';
export { MAX_MOUNT_ID_LENGTH, parseBody, parseEndpoint, parseRequest, validateMountId, validateOpts } from './validate.js';
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
export {
  DEFAULT_BODY_LIMIT,
  isPluginCall,
  listenPluginSocket,
  pluginClientErrorBody,
  pluginListener,
  type PluginListener,
  type PluginListenerOptions,
  type PluginServer,
  type PluginSocketOptions,
} from './server.js';
export { PluginClient, type PluginClientOptions, type RawReply } from './client.js';
