export * from './types.js';
export { CLIENT_ERROR, ControlApiError } from './client-errors.js';
export {
  ControlClient,
  type CallOptions,
  type ControlClientOptions,
  type RequestEvent,
  type DeleteVolumeOptions,
  type ListOptions,
  type StreamOptions,
} from './client.js';
