// The VolumeDriver protocol without a transport: (path, body) in, (status, JSON body) out. It never
// throws and never hangs: every failure becomes `{ "Err": … }` (HTTP 200, which Docker reads like
// any other status; 404 for an unknown endpoint), and a backend that does not answer in time gets
// a timeout error. Mount and Unmount are reference-counted by Docker's caller ID.
import { KeyedLock, MountRefCounter } from '@convoy/daemon-kit';
import { BackendContractError, PluginTimeoutError, UnknownEndpointError, VolumeInUseError, VolumeNotFoundError } from './errors.js';
import { errMessage } from './err-message.js';
import type {
  BackendVolume,
  CreateRequest,
  MountRequest,
  NameRequest,
  PluginEndpoint,
  PluginRequests,
  PluginResponses,
  VolumeBackend,
  VolumeInfo,
} from './types.js';
import { parseEndpoint, parseRequest } from './validate.js';

export interface PluginResponse {
  status: number;
  body: object;
}

export type PluginHandler = (path: string, body: Uint8Array | string) => Promise<PluginResponse>;

export interface PluginErrorEvent {
  /** The endpoint (or the raw path when it is unknown). */
  endpoint: string;
  error: unknown;
  /**
   * `request`: the call was answered with Err. `save`: the call succeeded but saving the mount
   * state (onChange) failed; the next change saves the whole state again. `late`: a call that had
   * already timed out failed afterwards.
   */
  phase: 'request' | 'save' | 'late';
}

export interface PluginHandlerOptions {
  /** Mount reference state; pass one loaded with MountRefCounter.fromJSON to survive restarts. */
  refs?: MountRefCounter;
  /** Answer Err after this long (the backend call keeps running); 0 waits forever. Default 30 s. */
  timeoutMs?: number;
  /** Let Remove through while callers still hold the volume mounted. Default false. */
  allowRemoveWhileMounted?: boolean;
  /** Every error, with its stack, for the daemon's log (Docker only sees `Err`). */
  onError?: (event: PluginErrorEvent) => void;
}

export const DEFAULT_HANDLER_TIMEOUT_MS = 30_000;

export function createPluginHandler(backend: VolumeBackend, options: PluginHandlerOptions = {}): PluginHandler {
  const refs = options.refs ?? new MountRefCounter();
  const timeoutMs = options.timeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
  const locks = new KeyedLock();

  const report = (event: PluginErrorEvent): void => {
    try {
      options.onError?.(event);
    } catch {
      // a failing logger must not turn into a failed or hung request
    }
  };

  const saved = async (endpoint: string, save: Promise<void>): Promise<void> => {
    try {
      await save;
    } catch (error) {
      report({ endpoint, error, phase: 'save' });
    }
  };

  const calls: { [E in PluginEndpoint]: (req: PluginRequests[E]) => Promise<PluginResponses[E]> } = {
    '/Plugin.Activate': async () => ({ Implements: ['VolumeDriver'] }),

    '/VolumeDriver.Capabilities': async () => {
      const { scope } = await backend.capabilities();
      if (scope !== 'local' && scope !== 'global') throw new BackendContractError(`unknown volume scope ${String(scope)}`);
      return { Capabilities: { Scope: scope } };
    },

    '/VolumeDriver.Create': ({ Name, Opts }: CreateRequest) =>
      locks.run(Name, async () => {
        await backend.create(Name, Opts);
        return {};
      }),

    '/VolumeDriver.Remove': ({ Name }: NameRequest) =>
      locks.run(Name, async () => {
        const holders = refs.count(Name);
        if (holders > 0 && !options.allowRemoveWhileMounted) throw new VolumeInUseError(Name, holders);
        await backend.remove(Name);
        await saved('/VolumeDriver.Remove', refs.forget(Name).saved);
        return {};
      }),

    '/VolumeDriver.Mount': ({ Name, ID }: MountRequest) =>
      locks.run(Name, async () => {
        // Already held by someone: reuse the mount, unless the backend says it is gone (remount).
        let mountpoint = refs.isMounted(Name) ? await backend.path(Name) : undefined;
        mountpoint ??= await backend.mount(Name, ID);
        if (typeof mountpoint !== 'string' || mountpoint === '') {
          throw new BackendContractError(`mounting ${Name} returned no mountpoint`);
        }
        await saved('/VolumeDriver.Mount', refs.add(Name, ID).saved);
        return { Mountpoint: mountpoint };
      }),

    '/VolumeDriver.Unmount': ({ Name, ID }: MountRequest) =>
      locks.run(Name, async () => {
        if (!refs.has(Name, ID)) return {}; // unknown caller: nothing of ours to release
        // Unmount only for the last caller; on failure the ID stays, so a retry can finish it.
        if (refs.count(Name) === 1) await backend.unmount(Name, ID);
        await saved('/VolumeDriver.Unmount', refs.remove(Name, ID).saved);
        return {};
      }),

    '/VolumeDriver.Path': async ({ Name }: NameRequest) => {
      const mountpoint = await backend.path(Name);
      return mountpoint ? { Mountpoint: mountpoint } : {};
    },

    '/VolumeDriver.Get': async ({ Name }: NameRequest) => {
      const volume = await backend.get(Name);
      if (volume === undefined) throw new VolumeNotFoundError(Name);
      return { Volume: toVolumeInfo(volume) };
    },

    '/VolumeDriver.List': async () => ({ Volumes: (await backend.list()).map(toVolumeInfo) }),
  };

  return async (path, body) => {
    let endpoint: string = path;
    try {
      const known = parseEndpoint(path);
      endpoint = known;
      const request = parseRequest(known, body);
      const call = calls[known] as (req: typeof request) => Promise<object>;
      return { status: 200, body: await withTimeout(call(request), known, timeoutMs, report) };
    } catch (error) {
      report({ endpoint, error, phase: 'request' });
      return { status: error instanceof UnknownEndpointError ? 404 : 200, body: { Err: errMessage(error) } };
    }
  };
}

/** Docker's Volume object: Mountpoint only when set, CreatedAt only when it parses as a date. */
export function toVolumeInfo(volume: BackendVolume): VolumeInfo {
  const info: VolumeInfo = { Name: volume.name };
  if (typeof volume.mountpoint === 'string' && volume.mountpoint !== '') info.Mountpoint = volume.mountpoint;
  if (volume.createdAt !== undefined) {
    const date = volume.createdAt instanceof Date ? volume.createdAt : new Date(volume.createdAt);
    // An empty or invalid CreatedAt would make Docker's JSON decoder fail the whole answer.
    if (!Number.isNaN(date.getTime())) info.CreatedAt = date.toISOString();
  }
  if (volume.status !== undefined && typeof volume.status === 'object' && volume.status !== null) info.Status = volume.status;
  return info;
}

function withTimeout<T>(work: Promise<T>, endpoint: string, ms: number, report: (event: PluginErrorEvent) => void): Promise<T> {
  if (ms <= 0) return work;
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new PluginTimeoutError(endpoint, ms));
    }, ms);
  });
  work.then(
    () => clearTimeout(timer),
    (error: unknown) => {
      clearTimeout(timer);
      if (timedOut) report({ endpoint, error, phase: 'late' });
    },
  );
  return Promise.race([work, timeout]);
}
