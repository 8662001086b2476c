// Request parsing for the VolumeDriver protocol. Docker sends no Content-Type, so a body is read as
// UTF-8 JSON whatever the headers say; an empty body (Activate's) is an empty object. Every field
// is checked before use; anything else in the body is ignored, as Docker's own decoder does.
import { validateVolumeName } from '@convoy/rules';
import { InvalidRequestError, UnknownEndpointError } from './errors.js';
import { PLUGIN_ENDPOINTS, type PluginEndpoint, type PluginRequests, type VolumeOptions } from './types.js';

/** Docker's caller IDs are 64 hex characters; anything much longer is not Docker. */
export const MAX_MOUNT_ID_LENGTH = 1024;

/** `Opts` must be a map of strings; `null` and absent both mean "no options". */
export function validateOpts(opts: unknown): VolumeOptions {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw new InvalidRequestError(`Opts must be an object of strings, got ${describe(opts)}`);
  }
  const entries = Object.entries(opts);
  for (const [key, value] of entries) {
    if (typeof value !== 'string') {
      throw new InvalidRequestError(`option ${JSON.stringify(key.slice(0, 80))} must be a string, got ${describe(value)}`, {
        hint: 'pass options as -o key=value; every value is a string',
      });
    }
  }
  // fromEntries defines own properties, so a "__proto__" key stays a plain key.
  return Object.fromEntries(entries) as VolumeOptions;
}

/** The caller `ID` of Mount and Unmount: a non-empty string. */
export function validateMountId(id: unknown): string {
  if (typeof id !== 'string') throw new InvalidRequestError(`ID must be a string, got ${describe(id)}`);
  if (id.length === 0) throw new InvalidRequestError('ID must not be empty');
  if (id.length > MAX_MOUNT_ID_LENGTH) throw new InvalidRequestError(`ID is longer than ${MAX_MOUNT_ID_LENGTH} characters`);
  return id;
}

/** The endpoint a request path names (a query string is ignored); UnknownEndpointError otherwise. */
export function parseEndpoint(path: string): PluginEndpoint {
  const bare = path.split('?', 1)[0] ?? '';
  const found = PLUGIN_ENDPOINTS.find((endpoint) => endpoint === bare);
  if (found === undefined) throw new UnknownEndpointError(bare);
  return found;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A body as a JSON object: empty (or whitespace, or `null`) is `{}`; anything but an object is an error. */
export function parseBody(body: Uint8Array | string): Record<string, unknown> {
  let text: string;
  try {
    text = typeof body === 'string' ? body : utf8.decode(body);
  } catch {
    throw new InvalidRequestError('request body is not valid UTF-8');
  }
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidRequestError(`request body is not valid JSON (${err instanceof Error ? err.message.slice(0, 120) : 'parse error'})`);
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidRequestError(`request body must be a JSON object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Parses and validates the body of one endpoint into its request type. */
export function parseRequest<E extends PluginEndpoint>(endpoint: E, body: Uint8Array | string): PluginRequests[E] {
  const raw = parseBody(body);
  return validateRequest(endpoint, raw);
}

function validateRequest<E extends PluginEndpoint>(endpoint: E, raw: Record<string, unknown>): PluginRequests[E] {
  let request: PluginRequests[PluginEndpoint];
  switch (endpoint) {
    case '/Plugin.Activate':
    case '/VolumeDriver.List':
    case '/VolumeDriver.Capabilities':
      request = {};
      break;
    case '/VolumeDriver.Create':
      request = { Name: requireName(raw), Opts: validateOpts(raw.Opts) };
      break;
    case '/VolumeDriver.Mount':
    case '/VolumeDriver.Unmount':
      request = { Name: requireName(raw), ID: validateMountId(raw.ID) };
      break;
    default:
      request = { Name: requireName(raw) };
  }
  return request as PluginRequests[E];
}

/** `Name`: a string that follows Convoy's one name rule (@convoy/rules), or CONVOY_VOLUME_NAME_INVALID. */
function requireName(raw: Record<string, unknown>): string {
  if (!('Name' in raw) || raw.Name === undefined) throw new InvalidRequestError('Name is missing');
  const name = raw.Name;
  if (typeof name !== 'string') throw new InvalidRequestError(`Name must be a string, got ${describe(name)}`);
  validateVolumeName(name);
  return name;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
