import { DevmapperError } from './errors.js';

/** The thin-pool target's status line, parsed (Documentation/admin-guide/device-mapper/thin-provisioning.rst). */
export interface PoolStatus {
  transactionId: number;
  /** Metadata blocks are 4 KiB. */
  metadataUsedBlocks: number;
  metadataTotalBlocks: number;
  /** Data blocks are the pool's block size. */
  dataUsedBlocks: number;
  dataTotalBlocks: number;
  /** Metadata block of a held metadata snapshot (reserve_metadata_snap), or undefined. */
  heldMetadataRoot: number | undefined;
  mode: 'rw' | 'ro' | 'out_of_data_space' | 'fail';
  needsCheck: boolean;
}

/**
 *   <transaction id> <used meta>/<total meta> <used data>/<total data> <held root>|-
 *   ro|rw|out_of_data_space [no_]discard_passdown error|queue_if_no_space needs_check|- [lowater]
 * or "Fail" / "Error" when the pool has failed.
 */
export function parsePoolStatus(params: string): PoolStatus {
  const f = params.trim().split(/\s+/);
  if (f[0] === 'Fail' || f[0] === 'Error') {
    return {
      transactionId: 0,
      metadataUsedBlocks: 0,
      metadataTotalBlocks: 0,
      dataUsedBlocks: 0,
      dataTotalBlocks: 0,
      heldMetadataRoot: undefined,
      mode: 'fail',
      needsCheck: true,
    };
  }
  const pair = (s: string | undefined): [number, number] => {
    const m = /^(\d+)\/(\d+)$/.exec(s ?? '');
    if (m === null) throw invalid(params);
    return [Number(m[1]), Number(m[2])];
  };
  const tid = Number(f[0]);
  if (!Number.isSafeInteger(tid)) throw invalid(params);
  const [mu, mt] = pair(f[1]);
  const [du, dt] = pair(f[2]);
  const held = f[3] === undefined || f[3] === '-' ? undefined : Number(f[3]);
  const mode = f[4] === 'ro' || f[4] === 'rw' || f[4] === 'out_of_data_space' ? f[4] : 'fail';
  return {
    transactionId: tid,
    metadataUsedBlocks: mu,
    metadataTotalBlocks: mt,
    dataUsedBlocks: du,
    dataTotalBlocks: dt,
    heldMetadataRoot: held,
    mode,
    needsCheck: f.includes('needs_check'),
  };
}

const invalid = (params: string): DevmapperError =>
  new DevmapperError('CONVOY_DM_FAILED', `unexpected thin-pool status "${params}"`, { hint: 'check the pool with `dmsetup status`' });

/** Thin target status: "<mapped sectors> <highest mapped sector>|-" or "Fail". */
export function parseThinStatus(params: string): { mappedSectors: number; failed: boolean } {
  const f = params.trim().split(/\s+/);
  if (f[0] === 'Fail') return { mappedSectors: 0, failed: true };
  return { mappedSectors: Number(f[0] ?? 0) || 0, failed: false };
}
