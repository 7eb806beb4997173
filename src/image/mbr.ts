// The MBR partition entry exactly as OSv's kernel reads it (facts §4.3): entry i at
// 0x1BE + 16·i, boot signature 55 AA at 510, CHS packed OSv's way — a u16 of
// (cylinder << 6) | sector — which matches the kernel's reader, not the standard bit layout.
// The kernel only creates /dev/vblk0.<i> when the type is non-zero AND the 6-bit start-sector
// field is non-zero; the CHS formula always yields sector >= 1.

import { SECTOR } from './sector.js';

export const PARTITION_TABLE = 0x1be;
export const SIGNATURE_OFFSET = 0x1fe;
export const TYPE_LINUX = 0x83;
/** The largest partition an MBR entry can describe: a 32-bit count of 512-byte sectors (about 2 TiB). */
export const MBR_MAX_PARTITION_BYTES = 0xffffffff * SECTOR;
/** OSv's root filesystem lives in slot 2 (index 1), which it names /dev/vblk0.1. */
export const ROOT_SLOT = 2;

export interface Chs {
  cylinder: number;
  head: number;
  sector: number;
}

/** CHS of an LBA with 255 heads × 63 sectors, saturating at (1023, 254, 63). */
export function lbaToChs(lba: number): Chs {
  const sector = (lba % 63) + 1;
  const head = Math.floor(lba / 63) % 255;
  const cylinder = Math.floor(Math.floor(lba / 63) / 255);
  return cylinder > 1023 ? { cylinder: 1023, head: 254, sector: 63 } : { cylinder, head, sector };
}

const packChs = (c: Chs): number => ((c.cylinder << 6) | c.sector) & 0xffff;
const unpackChs = (head: number, packed: number): Chs => ({ cylinder: packed >>> 6, head, sector: packed & 0x3f });

export interface PartitionSpec {
  /** 1..4 (OSv's imgedit numbering). */
  slot: number;
  /** Bytes; multiples of 512. */
  start: number;
  size: number;
  type?: number;
}

/** Write a partition entry into a 512-byte sector (in place) and set the 55 AA signature. */
export function writePartition(sector: Buffer, p: PartitionSpec): void {
  if (sector.length < SECTOR) throw new RangeError('writePartition needs a full 512-byte sector');
  if (p.slot < 1 || p.slot > 4) throw new RangeError(`partition slot ${p.slot} is not 1..4`);
  if (p.start % SECTOR !== 0 || p.size % SECTOR !== 0) throw new RangeError('partition start and size must be multiples of 512');
  const startLba = p.start / SECTOR;
  const count = p.size / SECTOR;
  if (startLba > 0xffffffff || count > 0xffffffff) throw new RangeError('partition is beyond what an MBR can address (2 TiB)');
  const at = PARTITION_TABLE + (p.slot - 1) * 16;
  const s = lbaToChs(startLba);
  const e = lbaToChs(startLba + count); // one past the end, as OSv's imgedit computes it
  sector.fill(0, at, at + 16);
  sector.writeUInt8(s.head, at + 1);
  sector.writeUInt16LE(packChs(s), at + 2);
  sector.writeUInt8(p.type ?? TYPE_LINUX, at + 4);
  sector.writeUInt8(e.head, at + 5);
  sector.writeUInt16LE(packChs(e), at + 6);
  sector.writeUInt32LE(startLba, at + 8);
  sector.writeUInt32LE(count, at + 12);
  sector[SIGNATURE_OFFSET] = 0x55;
  sector[SIGNATURE_OFFSET + 1] = 0xaa;
}

export interface PartitionEntry {
  slot: number;
  /** OSv's device name for it. */
  device: string;
  type: number;
  bootable: boolean;
  start: number;
  size: number;
  chsStart: Chs;
  chsEnd: Chs;
  /** Whether OSv creates a device for it (type != 0 and start sector field != 0). */
  seenByOsv: boolean;
}

export interface Mbr {
  /** 55 AA present. */
  signature: boolean;
  /** Non-zero bytes before the partition table: boot code (a loader.img), not a bare MBR. */
  hasBootCode: boolean;
  /** Non-empty slots only. */
  partitions: PartitionEntry[];
}

export function parseMbr(sector: Buffer): Mbr {
  const signature = sector.length >= SECTOR && sector[SIGNATURE_OFFSET] === 0x55 && sector[SIGNATURE_OFFSET + 1] === 0xaa;
  const hasBootCode = sector.subarray(0, 0x1b8).some((b) => b !== 0);
  const partitions: PartitionEntry[] = [];
  if (signature) {
    for (let i = 0; i < 4; i++) {
      const at = PARTITION_TABLE + i * 16;
      const type = sector.readUInt8(at + 4);
      const startLba = sector.readUInt32LE(at + 8);
      const count = sector.readUInt32LE(at + 12);
      if (type === 0 && startLba === 0 && count === 0) continue;
      const chsStart = unpackChs(sector.readUInt8(at + 1), sector.readUInt16LE(at + 2));
      partitions.push({
        slot: i + 1,
        device: `/dev/vblk0.${i}`,
        type,
        bootable: sector[at] === 0x80,
        start: startLba * SECTOR,
        size: count * SECTOR,
        chsStart,
        chsEnd: unpackChs(sector.readUInt8(at + 5), sector.readUInt16LE(at + 6)),
        seenByOsv: type !== 0 && chsStart.sector !== 0,
      });
    }
  }
  return { signature, hasBootCode, partitions };
}
