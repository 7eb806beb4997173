// The action of `osv inspect`, imported lazily by src/cli/commands/inspect.ts.

import { ExitCode } from '../diagnostics/error.js';
import { inspectImage, type InspectReport } from './inspect.js';
import { readRecord } from './record.js';
import { maskText } from '../secrets.js';
import { writeStdout } from '../output.js';
import { plural } from '../units.js';

const out = (s: string): void => writeStdout(s + '\n');

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  for (; v >= 1024 && i < units.length - 1; i++) v /= 1024;
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}


const LAYOUTS: Record<InspectReport['layout'], string> = {
  disk: 'disk (MBR + root filesystem; the hypervisor boots the kernel)',
  bootable: 'bootable (OSv loader + root filesystem; boots by itself)',
  filesystem: 'bare filesystem (no partition table)',
};

function filesystemLine(r: InspectReport): string {
  const f = r.filesystem;
  if (f.type === 'rofs') {
    const sb = f.superblock;
    return `rofs v${sb.version}: ${plural(sb.inodes, 'inode')}, ${plural(sb.dirEntries, 'directory entry')}, ${plural(sb.symlinks, 'symlink')}; tables ${f.structureBytes} bytes at block ${sb.structureFirstBlock}; ${size(f.bytes)}`;
  }
  if (f.type === 'ext') {
    const sb = f.superblock;
    return `ext4 "${sb.label}": ${sb.blocks} blocks of ${sb.blockSize} bytes (${size(sb.blocks * sb.blockSize)}, ${size(sb.freeBlocks * sb.blockSize)} free); features ${sb.features.join(' ')}`;
  }
  return 'unknown';
}

export function printReport(r: InspectReport): void {
  out(`${r.path}: ${r.format}, ${size(r.fileBytes)}${r.format === 'qcow2' ? ` (raw ${size(r.rawBytes)})` : ''}`);
  out(`layout:     ${LAYOUTS[r.layout]}`);
  for (const [i, p] of r.partitions.entries())
    out(`${i === 0 ? 'partitions:' : '           '} slot ${p.slot} ${p.device} type 0x${p.type.toString(16).padStart(2, '0')} at byte ${p.start}, ${size(p.size)}${p.seenByOsv ? '' : ' (invisible to OSv)'}`);
  if (r.cmdline !== undefined) out(`cmdline:    ${r.cmdline}`);
  out(`filesystem: ${filesystemLine(r)}`);
  const t = r.totals;
  const n = plural;
  out(`contents:   ${n(t.files, 'file')} (${size(t.bytes)}), ${n(t.dirs, 'directory')}, ${n(t.symlinks, 'symlink')}`);
  if (r.tree.length) {
    out('tree:');
    const width = Math.max(...r.tree.filter((n) => n.kind === 'file').map((n) => String(n.size).length), 1);
    for (const n of r.tree) {
      const sz = n.kind === 'file' ? String(n.size).padStart(width) : (n.kind === 'dir' ? 'dir' : n.kind === 'symlink' ? 'link' : n.kind).padStart(width);
      out(`  ${sz}  ${n.path}${n.kind === 'dir' && n.path !== '/' ? '/' : ''}${n.target !== undefined ? ` -> ${n.target}` : ''}`);
    }
  }
  if (!r.problems.length) out('check:      ok');
  else {
    out(`check:      ${n(r.problems.length, 'problem')}`);
    for (const p of r.problems) out(`  ${p.code}: ${p.message}`);
  }
}

export async function inspectCommand(image: string, opts: { tree?: boolean; json?: boolean }): Promise<void> {
  const r = await inspectImage(image, { tree: opts.tree !== false });
  if (!r.ok) throw r.error;
  // A bootable image carries its command line; the build that wrote it knows which values are secrets.
  const secrets = readRecord(image)?.secrets ?? [];
  const report = r.value.cmdline !== undefined ? { ...r.value, cmdline: maskText(r.value.cmdline, secrets) } : r.value;
  if (opts.json) out(JSON.stringify({ ok: report.problems.length === 0, ...report }, null, 2));
  else printReport(report);
  if (report.problems.length) process.exitCode = ExitCode.invalidInput;
}
