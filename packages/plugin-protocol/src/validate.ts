// Request parsing for the VolumeDriver protocol. Docker sends no Content-Type, so a body is read as
// UTF-8 JSON whatever the headers say; an empty body (Activate's) is an empty object. Every field
// is checked before use, through one zod schema per endpoint; anything else in the body is ignored,
// as Docker's own decoder does.
import { validateVolumeName } from '@convoy/rules';
import { z } from 'zod';
import { InvalidRequestError, UnknownEndpointError } from './errors.js';
import { PLUGIN_ENDPOINTS, type PluginEndpoint, type PluginRequests, type VolumeOptions } from './types.js';

/** Docker's caller IDs are 64 hex characters; anything much longer is not Docker. */
export const MAX_MOUNT_ID_LENGTH = 1024;

/** `Name`: present, a string; then Convoy's one name rule (@convoy/rules), CONVOY_VOLUME_NAME_INVALID. */
const nameField = z.string({
  error: (iss) => (iss.input === undefined ? 'Name is missing' : `Name must be a string, got ${describe(iss.input)}`),
});

const OPTION_HINT = 'pass options as -o key=value; every value is a string';

/**
 * `Opts`: a map of strings; `null` and absent both mean "no options". Built with fromEntries, which
 * defines own properties, so an option named "__proto__" stays a plain key (z.record drops it).
 */
const optsField = z
  .unknown()
  .optional()
  .transform((v, ctx): VolumeOptions => {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) {
      ctx.addIssue({ code: 'custom', message: `Opts must be an object of strings, got ${describe(v)}` });
      return z.NEVER;
    }
    const entries = Object.entries(v);
    for (const [key, value] of entries) {
      if (typeof value !== 'string') {
        const message = `option ${JSON.stringify(key.slice(0, 80))} must be a string, got ${describe(value)}`;
        ctx.addIssue({ code: 'custom', path: [key], message, params: { hint: OPTION_HINT } });
        return z.NEVER;
      }
    }
    return Object.fromEntries(entries) as VolumeOptions;
  });

/** The caller `ID` of Mount and Unmount: a non-empty string, not much longer than Docker's 64 hex characters. */
const idField = z
  .string({ error: (iss) => `ID must be a string, got ${describe(iss.input)}` })
  .min(1, 'ID must not be empty')
  .max(MAX_MOUNT_ID_LENGTH, `ID is longer than ${MAX_MOUNT_ID_LENGTH} characters`);

/**
 * The request body of each endpoint, the one schema of each wire type. Anything else in a body is
 * ignored (stripped), as Docker's own decoder does.
 */
const REQUEST_SCHEMAS = {
  '/Plugin.Activate': z.object({}),
  '/VolumeDriver.List': z.object({}),
  '/VolumeDriver.Capabilities': z.object({}),
  '/VolumeDriver.Create': z.object({ Name: nameField, Opts: optsField }),
  '/VolumeDriver.Mount': z.object({ Name: nameField, ID: idField }),
  '/VolumeDriver.Unmount': z.object({ Name: nameField, ID: idField }),
  '/VolumeDriver.Remove': z.object({ Name: nameField }),
  '/VolumeDriver.Path': z.object({ Name: nameField }),
  '/VolumeDriver.Get': z.object({ Name: nameField }),
} satisfies { [E in PluginEndpoint]: z.ZodType<PluginRequests[E]> };

/** The first problem as CONVOY_PLUGIN_REQUEST_INVALID, in words that name the field. */
function requestError(error: z.ZodError): InvalidRequestError {
  const issue = error.issues[0];
  if (issue === undefined) return new InvalidRequestError('invalid request');
  const hint = issue.code === 'custom' ? (issue.params as { hint?: string } | undefined)?.hint : undefined;
  return new InvalidRequestError(issue.message, hint === undefined ? {} : { hint });
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw requestError(parsed.error);
  return parsed.data;
}

/** `Opts` as Create's schema reads it. */
export function validateOpts(opts: unknown): VolumeOptions {
  return parseWith(optsField, opts);
}

/** The caller `ID` as Mount's and Unmount's schemas read it. */
export function validateMountId(id: unknown): string {
  return parseWith(idField, id);
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
  const request: Record<string, unknown> = parseWith<Record<string, unknown>>(REQUEST_SCHEMAS[endpoint], raw);
  if ('Name' in request) validateVolumeName(request.Name);
  return request as PluginRequests[E];
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
