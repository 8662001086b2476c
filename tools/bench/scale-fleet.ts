// The simulated fleet of tools/bench/scale.ts: which block ids each backup of each volume holds,
// deterministically, with the sharing and churn of real fleets (clones of base images, a few
// percent of blocks changed a day).

/** The fleet's shape. The full fleet is 10,000 volumes × 30 backups × ~500 blocks. */
export interface FleetSpec {
  volumes: number;
  backups: number;
  /** Mean blocks per backup; a volume has between 0.5× and 1.5× as many. */
  blocks: number;
  /** Share of a volume's blocks that come from its base image, shared with the image's other volumes. */
  share: number;
  /** Share of a volume's blocks each backup has changed since the one before. */
  churn: number;
  volumesPerImage: number;
  seed: number;
}

export const FULL_FLEET: FleetSpec = { volumes: 10_000, backups: 30, blocks: 500, share: 0.2, churn: 0.05, volumesPerImage: 50, seed: 1 };

export const DAY = 86_400_000;

/** A deterministic stream in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const volumeName = (v: number): string => `vol-${String(v).padStart(5, '0')}`;

/**
 * Where every volume's ids come from. Pool ids [0, images × imageSlots) are the base images' blocks
 * (volume v clones image v mod images: slot j of the image is the same block in every clone);
 * each volume then owns a private range for the blocks only it has: its first backup's own
 * blocks and the `changed` new blocks of each later backup.
 */
export class FleetPlan {
  readonly spec: FleetSpec;
  readonly images: number;
  readonly imageSlots: number;
  /** Blocks of volume v's backups. */
  readonly blocks: Uint32Array;
  /** Blocks each later backup of volume v replaces. */
  readonly changed: Uint32Array;
  /** First pool id of volume v's private range (v = volumes: the pool's capacity). */
  readonly privateBase: Float64Array;
  /** Id of backup b of volume v: backupIds[v * backups + b]. */
  readonly backupIds: string[] = [];
  /** Midnight (UTC) of the day of the first backups. */
  readonly start: number;

  /** `now`: the last backups are made the day before (the store judges ages by real time). */
  constructor(spec: FleetSpec, now = Date.now()) {
    this.spec = spec;
    this.start = (Math.floor(now / DAY) - spec.backups - 1) * DAY;
    this.images = Math.max(1, Math.ceil(spec.volumes / spec.volumesPerImage));
    this.imageSlots = Math.ceil(1.5 * spec.blocks);
    this.blocks = new Uint32Array(spec.volumes);
    this.changed = new Uint32Array(spec.volumes);
    this.privateBase = new Float64Array(spec.volumes + 1);
    let next = this.images * this.imageSlots;
    for (let v = 0; v < spec.volumes; v++) {
      const r = rng(spec.seed * 1_000_003 + v * 7 + 1);
      const k = Math.max(1, Math.min(this.imageSlots, Math.round(spec.blocks * (0.5 + r()))));
      this.blocks[v] = k;
      this.changed[v] = Math.max(1, Math.round(spec.churn * k));
      this.privateBase[v] = next;
      next += k + (spec.backups - 1) * (this.changed[v] as number);
      for (let b = 0; b < spec.backups; b++) this.backupIds.push(backupId(this.created(v, b), r));
    }
    this.privateBase[spec.volumes] = next;
  }

  get capacity(): number {
    return this.privateBase[this.spec.volumes] as number;
  }

  /** When backup b of volume v was made: one a day, the last ones the day before yesterday. */
  created(v: number, b: number): number {
    return this.start + b * DAY + ((v * 7919) % 43_200) * 1000;
  }

  backupId(v: number, b: number): string {
    return this.backupIds[v * this.spec.backups + b] as string;
  }

  /** The pool ids of every backup of volume v, oldest first (each a list of distinct ids, by block index). */
  *backupsOf(v: number): Generator<Uint32Array> {
    const { spec } = this;
    const r = rng(spec.seed * 1_000_003 + v * 7 + 2);
    const k = this.blocks[v] as number;
    const image = v % this.images;
    let own = this.privateBase[v] as number;
    const slots = new Uint32Array(k);
    for (let j = 0; j < k; j++) slots[j] = r() < spec.share ? image * this.imageSlots + j : own++;
    yield slots.slice();
    const hit = new Uint8Array(k);
    for (let b = 1; b < spec.backups; b++) {
      hit.fill(0);
      for (let c = 0; c < (this.changed[v] as number);) {
        const j = Math.floor(r() * k);
        if (hit[j] === 1) continue;
        hit[j] = 1;
        slots[j] = own++;
        c++;
      }
      yield slots.slice();
    }
  }
}

function backupId(ms: number, r: () => number): string {
  const iso = new Date(ms).toISOString();
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}Z`;
  return `${stamp}-${Math.floor(r() * 0x1000000)
    .toString(16)
    .padStart(6, '0')}`;
}
