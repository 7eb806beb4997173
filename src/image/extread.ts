// Reading an ext4 back, for `osv inspect` and tests: the superblock natively (bounds-checked),
// the tree through e2fsprogs' debugfs (one process per directory level, batched), and the
// consistency check through `e2fsck -fn` (read-only). e2fsprogs addresses a filesystem inside
// a larger file as `PATH?offset=BYTES`.

import { ok, type Result } from '../diagnostics/result.js';
import type { OsvError } from '../diagnostics/error.js';
import { catchOsv } from './errors.js';
import type { ByteSource } from './source.js';
import { runTool, TOOLS } from './tools.js';

export const EXT_MAGIC = 0xef53;
const SB = 1024;

export interface ExtSuperblock {
  blockSize: number;
  blocks: number;
  inodes: number;
  freeBlocks: number;
  label: string;
  uuid: string;
  /** Feature names we know (has_journal, extent, 64bit, metadata_csum, ...). */
  features: string[];
}

const FEATURES: Array<[field: 'compat' | 'incompat' | 'ro', bit: number, name: string]> = [
  ['compat', 0x4, 'has_journal'],
  ['compat', 0x10, 'resize_inode'],
  ['compat', 0x20, 'dir_index'],
  ['incompat', 0x2, 'filetype'],
  ['incompat', 0x40, 'extent'],
  ['incompat', 0x80, '64bit'],
  ['incompat', 0x200, 'flex_bg'],
  ['ro', 0x1, 'sparse_super'],
  ['ro', 0x2, 'large_file'],
  ['ro', 0x8, 'huge_file'],
  ['ro', 0x400, 'metadata_csum'],
];

/** Whether the source holds an ext2/3/4 superblock (magic at 1080). */
export function isExt(src: ByteSource): boolean {
  return src.size >= SB + 1024 && src.read(SB + 56, 2, 'ext magic').readUInt16LE(0) === EXT_MAGIC;
}

export function readExtSuperblock(src: ByteSource): Result<ExtSuperblock, OsvError> {
  return catchOsv(() => {
    const b = src.read(SB, 1024, 'ext superblock');
    const logBlock = b.readUInt32LE(24);
    const flags = { compat: b.readUInt32LE(92), incompat: b.readUInt32LE(96), ro: b.readUInt32LE(100) };
    const uuid = b.subarray(104, 120).toString('hex');
    const label = b.subarray(120, 136);
    return {
      blockSize: logBlock < 8 ? 1024 << logBlock : -1,
      blocks: b.readUInt32LE(4),
      inodes: b.readUInt32LE(0),
      freeBlocks: b.readUInt32LE(12),
      label: label.subarray(0, label.indexOf(0) < 0 ? 16 : label.indexOf(0)).toString('utf8'),
      uuid: `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-${uuid.slice(12, 16)}-${uuid.slice(16, 20)}-${uuid.slice(20)}`,
      features: FEATURES.filter(([f, bit]) => (flags[f] & bit) !== 0).map(([, , n]) => n),
    };
  });
}

export interface ExtNode {
  path: string;
  kind: 'dir' | 'file' | 'symlink' | 'other';
  size: number;
  mode: number;
  target?: string;
}

/** The e2fsprogs name of a filesystem at a byte offset inside an image file. */
export const device = (path: string, offset: number): string => (offset ? `${path}?offset=${offset}` : path);
const quote = (p: string): string => `"${p}"`;
const join = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

/** Run debugfs commands in one process; returns stdout split per command. */
async function debugfs(path: string, offset: number, commands: string[]): Promise<Result<string[], OsvError>> {
  const r = await runTool(TOOLS.debugfs, ['-f', '-', device(path, offset)], {
    why: 'to read an ext4 image',
    input: commands.join('\n') + '\n',
    failCode: 'image.debugfs-failed',
  });
  if (!r.ok) return r;
  // Each command's output follows an echo line "debugfs: <command>".
  const parts = r.value.stdout.split(/^debugfs: .*$/m).slice(1);
  return ok(parts);
}

/** The whole tree (without lost+found's internals), breadth-first, one debugfs run per level. */
export async function listExt(path: string, offset = 0): Promise<Result<ExtNode[], OsvError>> {
  const out: ExtNode[] = [{ path: '/', kind: 'dir', size: 0, mode: 0o40755 }];
  const symlinks: ExtNode[] = [];
  let level = ['/'];
  while (level.length) {
    const listed = level.filter((d) => !d.includes('"'));
    const r = await debugfs(path, offset, listed.map((d) => `ls -p ${quote(d)}`));
    if (!r.ok) return r;
    const next: string[] = [];
    listed.forEach((dir, i) => {
      for (const line of (r.value[i] ?? '').split('\n')) {
        const f = line.split('/');
        if (f.length !== 8 || f[0] !== '') continue;
        const name = f[5]!;
        if (name === '.' || name === '..') continue;
        const mode = parseInt(f[2]!, 8);
        const type = mode & 0o170000;
        const kind = type === 0o040000 ? 'dir' : type === 0o100000 ? 'file' : type === 0o120000 ? 'symlink' : 'other';
        const node: ExtNode = { path: join(dir, name), kind, size: Number(f[6] || 0), mode };
        out.push(node);
        if (kind === 'dir' && !(dir === '/' && name === 'lost+found')) next.push(node.path);
        if (kind === 'symlink') symlinks.push(node);
      }
    });
    level = next;
  }
  if (symlinks.length) {
    const r = await debugfs(path, offset, symlinks.map((s) => `stat ${quote(s.path)}`));
    if (!r.ok) return r;
    symlinks.forEach((s, i) => {
      const m = /Fast link dest: "(.*)"$/m.exec(r.value[i] ?? '');
      if (m) s.target = m[1]!;
    });
  }
  return ok(out);
}

/** `e2fsck -fn`: the problems it finds, or [] for a clean filesystem. */
export async function checkExt(path: string, offset = 0): Promise<Result<string[], OsvError>> {
  const r = await runTool(TOOLS.e2fsck, ['-fn', device(path, offset)], {
    why: 'to check an ext4 image',
    failCode: 'image.e2fsck-failed',
    okExit: [4],
  });
  if (!r.ok) return r;
  if (r.value.exitCode === 0) return ok([]);
  return ok(
    `${r.value.stdout}\n${r.value.stderr}`
      .split('\n')
      .filter((l) => l.trim() && !/^Pass \d|^e2fsck \d|^\S+: \d+\/\d+ files/.test(l)),
  );
}
