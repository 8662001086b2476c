// The volume manager's options and what it answers with.
import type { Progress } from '@convoy/blockstore';
import type { ObjectStore } from '@convoy/objectstore';
import type { SnapshotInfo, VolumeDriver, VolumeInfo } from '@convoy/volume-driver';

export interface ManagerOptions {
  /** Directory for this daemon's durable state (mount references). */
  root: string;
  drivers: VolumeDriver[];
  /** Driver for volumes created without one (default: the first). */
  defaultDriver?: string;
  /** Docker's `volume rm` forgets nothing and deletes nothing (Convoy's --ignore-docker-delete). */
  ignoreDockerDelete?: boolean;
  /** Docker mounting an unknown volume creates it (Convoy's --create-on-docker-mount). */
  createOnDockerMount?: boolean;
  /** Told when a driver cannot start; the manager then serves the others (and fails only if none starts). */
  onDriverUnavailable?: (driver: string, err: unknown) => void;
  /** How backup URLs are opened (the daemon passes its S3 endpoint here). */
  openStore?: (url: string) => Promise<ObjectStore>;
  /**
   * Told of a record the manager left out to carry on (a corrupt volume record of a volume this
   * host had mounted, at start; a corrupt record in Docker's List): for the log. The error names
   * the record and has a hint.
   */
  onProblem?: (err: Error) => void;
}

/** Who asks: Docker (through the plugin socket) or an operator (CLI / control API). */
export type Caller = 'docker' | 'cli';

export interface CreateOptions {
  name: string;
  driver?: string;
  size?: string | number;
  /** Create from this backup URL. */
  backup?: string;
  /** Create as a copy of this snapshot (a thin clone on devicemapper, a reflink or copy on vfs). */
  snapshot?: string;
  options?: Record<string, string>;
  caller: Caller;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface ManagedVolume extends VolumeInfo {
  /** Docker mount IDs and `cli` holding it mounted on this host. */
  mountedBy: string[];
}

/** Every volume that could be read, and an error (naming the record, with a hint) for each that could not. */
export interface VolumeListing {
  volumes: ManagedVolume[];
  problems: Error[];
}

export type ManagedSnapshot = SnapshotInfo & {
  driver: string;
  /** snapshotInspect only: the volume's UUID and creation time. */
  volumeUuid?: string;
  volumeCreatedAt?: string;
};

export interface SnapshotListing {
  snapshots: ManagedSnapshot[];
  problems: Error[];
}
