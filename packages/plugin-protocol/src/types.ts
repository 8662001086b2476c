// The Docker VolumeDriver plugin protocol as Docker speaks it (moby volume/drivers/proxy.go,
// pkg/plugins): every call is `POST /<Endpoint>` with a JSON body (Activate's is empty), and every
// answer is JSON. Field names are Docker's, capitalised as on the wire.

/** The media type Docker sends in `Accept`; it sends no Content-Type at all. */
export const PLUGIN_MEDIA_TYPE = 'application/vnd.docker.plugins.v1.2+json';

export const PLUGIN_ENDPOINTS = [
  '/Plugin.Activate',
  '/VolumeDriver.Create',
  '/VolumeDriver.Remove',
  '/VolumeDriver.Mount',
  '/VolumeDriver.Unmount',
  '/VolumeDriver.Path',
  '/VolumeDriver.Get',
  '/VolumeDriver.List',
  '/VolumeDriver.Capabilities',
] as const;

export type PluginEndpoint = (typeof PLUGIN_ENDPOINTS)[number];

/** `-o key=value` options of `docker volume create`. */
export type VolumeOptions = Record<string, string>;

export type VolumeScope = 'local' | 'global';

// ---- requests, after validation (Opts: null or missing became {}) ----

export type ActivateRequest = Record<string, never>;
export interface CreateRequest {
  Name: string;
  Opts: VolumeOptions;
}
export interface NameRequest {
  Name: string;
}
export type RemoveRequest = NameRequest;
export type PathRequest = NameRequest;
export type GetRequest = NameRequest;
/** `ID` identifies the caller (a container mount); Unmount repeats the ID of its Mount. */
export interface MountRequest {
  Name: string;
  ID: string;
}
export type UnmountRequest = MountRequest;
export type ListRequest = Record<string, never>;
export type CapabilitiesRequest = Record<string, never>;

/** A Create body as Docker sends it: the 28 client sends `"Opts": null` when no `-o` is given. */
export interface CreateRequestWire {
  Name: string;
  Opts?: VolumeOptions | null;
}

export interface PluginRequests {
  '/Plugin.Activate': ActivateRequest;
  '/VolumeDriver.Create': CreateRequest;
  '/VolumeDriver.Remove': RemoveRequest;
  '/VolumeDriver.Mount': MountRequest;
  '/VolumeDriver.Unmount': UnmountRequest;
  '/VolumeDriver.Path': PathRequest;
  '/VolumeDriver.Get': GetRequest;
  '/VolumeDriver.List': ListRequest;
  '/VolumeDriver.Capabilities': CapabilitiesRequest;
}

// ---- responses ----

/** Any failed call: Docker shows `Err` to the user (`VolumeDriver.Create: <Err>`). */
export interface ErrResponse {
  Err: string;
}
export interface ActivateResponse {
  Implements: string[];
}
/** Create, Remove and Unmount answer `{}` on success. */
export type EmptyResponse = Record<string, never>;
export interface MountResponse {
  Mountpoint: string;
}
/** Mountpoint is absent while the volume is not mounted. */
export interface PathResponse {
  Mountpoint?: string;
}
/** One volume in Get and List answers. CreatedAt is RFC 3339 (Go parses it into a time.Time). */
export interface VolumeInfo {
  Name: string;
  Mountpoint?: string;
  CreatedAt?: string;
  Status?: Record<string, unknown>;
}
export interface GetResponse {
  Volume: VolumeInfo;
}
export interface ListResponse {
  Volumes: VolumeInfo[];
}
export interface CapabilitiesResponse {
  Capabilities: { Scope: VolumeScope };
}

export interface PluginResponses {
  '/Plugin.Activate': ActivateResponse;
  '/VolumeDriver.Create': EmptyResponse;
  '/VolumeDriver.Remove': EmptyResponse;
  '/VolumeDriver.Mount': MountResponse;
  '/VolumeDriver.Unmount': EmptyResponse;
  '/VolumeDriver.Path': PathResponse;
  '/VolumeDriver.Get': GetResponse;
  '/VolumeDriver.List': ListResponse;
  '/VolumeDriver.Capabilities': CapabilitiesResponse;
}

/** What a call answers on the wire: the endpoint's response, or `{ Err }`. */
export type PluginReply<E extends PluginEndpoint> = PluginResponses[E] | ErrResponse;

// ---- the side the daemon implements ----

/** A volume as the backend describes it; the handler turns it into Docker's VolumeInfo. */
export interface BackendVolume {
  name: string;
  /** Where the volume is mounted, if it is. */
  mountpoint?: string;
  /** A Date or any string `Date` parses; sent as RFC 3339, omitted when unparseable. */
  createdAt?: Date | string;
  /** Free-form facts `docker volume inspect` shows under Status. */
  status?: Record<string, unknown>;
}

/**
 * What the daemon implements behind the plugin socket. Names arrive validated. Mount and Unmount
 * arrive already reference-counted: `mount` is called only when no caller holds the volume (or the
 * backend reports it unmounted), `unmount` only when the last caller lets go. Throw a ConvoyError
 * (code + hint) to answer Docker with an error; its message and hint become `Err`.
 */
export interface VolumeBackend {
  create(name: string, opts: VolumeOptions): Promise<void> | void;
  remove(name: string): Promise<void> | void;
  /** Mounts the volume and returns its mountpoint. */
  mount(name: string, id: string): Promise<string> | string;
  unmount(name: string, id: string): Promise<void> | void;
  /** The mountpoint while mounted, else undefined. */
  path(name: string): Promise<string | undefined> | string | undefined;
  /** The volume, or undefined when it does not exist (Docker asks for absent volumes routinely). */
  get(name: string): Promise<BackendVolume | undefined> | BackendVolume | undefined;
  list(): Promise<BackendVolume[]> | BackendVolume[];
  capabilities(): Promise<{ scope: VolumeScope }> | { scope: VolumeScope };
}
