// ROFS on-disk constants and the superblock codec (facts doc §3). Everything little-endian;
// blocks are always 512 bytes (the kernel shifts by 9 whatever the superblock says).

export const ROFS_MAGIC = 0xdeadbeadn;
export const ROFS_VERSION = 1;
export const ROFS_BLOCK = 512;
export const SUPERBLOCK_BYTES = 64;
export const INODE_BYTES = 32;
/** u64 inode number + u16 name length. */
export const DIRENT_HEADER_BYTES = 10;
/** u16 target length. */
export const SYMLINK_HEADER_BYTES = 2;

export const MODE_DIR = 0x4000;
export const MODE_FILE = 0x8000;
export const MODE_SYMLINK = 0xa000;
export type RofsMode = typeof MODE_DIR | typeof MODE_FILE | typeof MODE_SYMLINK;

export interface RofsSuperblock {
  magic: number;
  version: number;
  blockSize: number;
  /** F: first block of the structure region (= 1 + data blocks). */
  structureFirstBlock: number;
  /** N: blocks of the structure region. */
  structureBlocks: number;
  dirEntries: number;
  symlinks: number;
  inodes: number;
}

const FIELDS = [
  'magic',
  'version',
  'blockSize',
  'structureFirstBlock',
  'structureBlocks',
  'dirEntries',
  'symlinks',
  'inodes',
] as const satisfies ReadonlyArray<keyof RofsSuperblock>;

export function encodeSuperblock(sb: RofsSuperblock): Buffer {
  const b = Buffer.alloc(ROFS_BLOCK);
  FIELDS.forEach((f, i) => b.writeBigUInt64LE(BigInt(sb[f]), i * 8));
  return b;
}

/** Decode the 8 u64 fields; undefined fields are reported by name when a value exceeds 2^53. */
export function decodeSuperblock(b: Buffer): { sb: RofsSuperblock; tooLarge: string[] } {
  const sb = {} as RofsSuperblock;
  const tooLarge: string[] = [];
  FIELDS.forEach((f, i) => {
    const v = b.readBigUInt64LE(i * 8);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) tooLarge.push(f);
    sb[f] = Number(v);
  });
  return { sb, tooLarge };
}

export const blocksFor = (bytes: number): number => Math.ceil(bytes / ROFS_BLOCK);
