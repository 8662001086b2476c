import { describe, expect, it } from 'vitest';
import {
  blocksTouched,
  changedExtents,
  optionsFromDriverOpts,
  parsePoolStatus,
  parseThinDelta,
  parseThinStatus,
  resolveOptions,
} from './index.js';

const MiB = 1024 * 1024;

// Output of thin-provisioning-tools 0.9.0 in the dm guest (pool block 2 MiB = 4096 sectors).
const DELTA = `<superblock uuid="" time="2" transaction="0" data_block_size="4096" nr_data_blocks="0">
  <diff left="2" right="3">
    <same begin="0" length="3"/>
    <right_only begin="3" length="1"/>
    <different begin="7" length="2"/>
    <left_only begin="20" length="1"/>
  </diff>
</superblock>
`;
const VERBOSE = `<superblock uuid="" time="2" transaction="0" data_block_size="4096" nr_data_blocks="0">
  <diff left="2" right="3">
    <same>
      <range begin="0" data_begin="0" length="3"/>
    </same>
    <right_only>
      <range begin="3" data_begin="3" length="1"/>
    </right_only>
  </diff>
</superblock>
`;

describe('thin_delta', () => {
  it('parses the plain and the verbose form', () => {
    const d = parseThinDelta(DELTA);
    expect(d).toMatchObject({ blockSectors: 4096, left: 2, right: 3 });
    expect(d.ranges).toEqual([
      { kind: 'same', begin: 0, length: 3 },
      { kind: 'right_only', begin: 3, length: 1 },
      { kind: 'different', begin: 7, length: 2 },
      { kind: 'left_only', begin: 20, length: 1 },
    ]);
    expect(parseThinDelta(VERBOSE).ranges).toEqual([
      { kind: 'same', begin: 0, length: 3 },
      { kind: 'right_only', begin: 3, length: 1 },
    ]);
  });

  it('refuses output it does not understand', () => {
    expect(() => parseThinDelta('<superblock data_block_size="128"><mystery/></superblock>')).toThrow(/unexpected element <mystery>/);
    expect(() => parseThinDelta('<diff left="1" right="2"></diff>')).toThrow(/data_block_size/);
    expect(() =>
      parseThinDelta('<superblock data_block_size="128"><diff left="1" right="2"><same begin="x" length="1"/></diff></superblock>'),
    ).toThrow(/begin/);
  });

  it('maps changed pool blocks to backup-block extents: new, rewritten and unmapped blocks, never same ones', () => {
    const ext = changedExtents(parseThinDelta(DELTA), 64 * MiB, 2 * MiB);
    expect(ext).toEqual([
      { offset: 3 * 2 * MiB, length: 2 * MiB },
      { offset: 7 * 2 * MiB, length: 4 * MiB },
      { offset: 20 * 2 * MiB, length: 2 * MiB },
    ]);
    expect(blocksTouched(ext, 2 * MiB)).toBe(4);
  });

  it('widens small pool blocks to whole backup blocks, merges neighbours and clips at the volume end', () => {
    // 64 KiB pool blocks (128 sectors): blocks 0-1 and 31 are in backup block 0, 32 in block 1
    const d = parseThinDelta(`<superblock data_block_size="128"><diff left="1" right="2">
      <different begin="0" length="2"/><right_only begin="31" length="2"/><left_only begin="100" length="1"/>
      <right_only begin="1000" length="50"/></diff></superblock>`);
    const ext = changedExtents(d, 5 * MiB, 2 * MiB); // 100 → byte 6.25 MiB (past the end), 1000 → 62.5 MiB
    expect(ext).toEqual([{ offset: 0, length: 4 * MiB }]);
    expect(blocksTouched(ext, 2 * MiB)).toBe(2);
    // a volume whose last backup block is partial
    const tail = changedExtents(
      parseThinDelta(`<superblock data_block_size="4096"><diff left="1" right="2"><different begin="2" length="1"/></diff></superblock>`),
      5 * MiB,
      2 * MiB,
    );
    expect(tail).toEqual([{ offset: 4 * MiB, length: 1 * MiB }]);
  });
});

describe('pool status', () => {
  it('parses the thin-pool status line as the 6.1 kernel prints it', () => {
    expect(parsePoolStatus('0 1651/16384 4/512 33 rw discard_passdown queue_if_no_space - 1024')).toEqual({
      transactionId: 0,
      metadataUsedBlocks: 1651,
      metadataTotalBlocks: 16384,
      dataUsedBlocks: 4,
      dataTotalBlocks: 512,
      heldMetadataRoot: 33,
      mode: 'rw',
      needsCheck: false,
    });
    expect(parsePoolStatus('7 10/20 0/512 - out_of_data_space no_discard_passdown error_if_no_space needs_check 1024')).toMatchObject({
      transactionId: 7,
      heldMetadataRoot: undefined,
      mode: 'out_of_data_space',
      needsCheck: true,
    });
    expect(parsePoolStatus('Fail').mode).toBe('fail');
    expect(() => parsePoolStatus('0 garbage')).toThrow(/unexpected thin-pool status/);
    expect(parseThinStatus('12288 12287')).toEqual({ mappedSectors: 12288, failed: false });
    expect(parseThinStatus('0 -')).toEqual({ mappedSectors: 0, failed: false });
    expect(parseThinStatus('Fail').failed).toBe(true);
  });
});

describe('sizes and options', () => {
  it('reads sizes in driver options with the one size grammar (@convoy/rules), 10Gi included', () => {
    expect(optionsFromDriverOpts('/var/lib/convoy/dm', { 'dm.defaultvolumesize': '10Gi' }).defaultVolumeSize).toBe(10 * 2 ** 30);
    expect(() => optionsFromDriverOpts('/var/lib/convoy/dm', { 'dm.defaultvolumesize': 'ten' })).toThrow(
      expect.objectContaining({ code: 'CONVOY_SIZE_INVALID' }),
    );
  });

  it('maps Convoy driver options; dm.blocksize is sectors when unitless', () => {
    const o = optionsFromDriverOpts('/var/lib/convoy/dm', {
      'dm.datadev': '/dev/sdb',
      'dm.metadatadev': '/dev/sdc',
      'dm.thinpoolname': 'mypool',
      'dm.blocksize': '4096',
      'dm.defaultvolumesize': '10G',
      'dm.fs': 'xfs',
    });
    expect(o).toMatchObject({
      dataDevice: '/dev/sdb',
      metadataDevice: '/dev/sdc',
      thinPoolName: 'mypool',
      blockSize: 2 * MiB,
      defaultVolumeSize: 10 * 2 ** 30,
      fs: 'xfs',
    });
    expect(optionsFromDriverOpts('/r', { 'dm.blocksize': '64K' }).blockSize).toBe(64 * 1024);
    expect(() => optionsFromDriverOpts('/r', { 'dm.datadev': '/dev/sdb' })).toThrow(/go together/);
    expect(() => optionsFromDriverOpts('/r', { 'dm.nope': '1' })).toThrow(/unknown devicemapper option/);
  });

  it('checks resolved options', () => {
    expect(resolveOptions({ root: '/r' })).toMatchObject({
      thinPoolName: 'convoy-pool',
      blockSize: 2 * MiB,
      defaultVolumeSize: 100 * 2 ** 30,
      fs: 'ext4',
      mountRoot: '/r/mounts',
    });
    expect(() => resolveOptions({ root: 'relative' })).toThrow(/absolute/);
    expect(() => resolveOptions({ root: '/r', blockSize: 100_000 })).toThrow(/64 KiB/);
    expect(() => resolveOptions({ root: '/r', fs: 'ntfs' })).toThrow(/not supported/);
    expect(() => resolveOptions({ root: '/r', thinPoolName: 'a/b' })).toThrow(/device name/);
  });
});
