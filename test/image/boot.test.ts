// Boots images built here with a real OSv kernel under QEMU (TCG) and looks for the program's
// output. Needs OSV_KERNEL (an OSv build directory or loader-stripped.elf), gcc and
// qemu-system-x86_64; skips with the reason otherwise. Example:
//   OSV_KERNEL=/path/to/osv/build/last npx vitest run test/image/boot.test.ts

import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { composeDisk } from '../../src/image/disk.js';
import { resolveKernel } from '../../src/kernel/resolve.js';
import { findTool } from '../../src/image/tools.js';
import type { ImageEntry } from '../../src/image/entries.js';
import type { KernelBundle } from '../../src/kernel/types.js';
import { tempDir } from './helpers.js';

const QEMU = 'qemu-system-x86_64';
const reason = !process.env['OSV_KERNEL']
  ? 'OSV_KERNEL is not set (point it at an OSv build directory to run the boot tests)'
  : !findTool('gcc')
    ? 'gcc is not installed'
    : !findTool(QEMU)
      ? `${QEMU} is not installed`
      : undefined;
if (reason) console.warn(`skipped: boot tests: ${reason}`);

// Only when the tests run: a skipped file leaves nothing in the temporary directory.
const work = reason ? '' : tempDir('boot');
afterAll(() => void (work && fs.rmSync(work, { recursive: true, force: true })));

/** A C program dynamically linked against libc only (OSv's kernel provides libc). */
function helloEntries(kernel: KernelBundle): ImageEntry[] {
  const src = join(work, 'hello.c');
  const bin = join(work, 'hello');
  fs.writeFileSync(src, '#include <stdio.h>\nint main(int argc, char **argv) { printf("hello from osv-up: %s\\n", argc > 1 ? argv[1] : "no args"); return 0; }\n');
  execFileSync('gcc', ['-O1', '-o', bin, src]);
  const entries: ImageEntry[] = [{ kind: 'file', guest: '/hello', host: bin, size: fs.statSync(bin).size }];
  if (kernel.libenviron) entries.push({ kind: 'file', guest: '/libenviron.so', host: kernel.libenviron, size: fs.statSync(kernel.libenviron).size });
  return entries;
}

/** Run QEMU until it exits (the guest powers off) or `seconds` pass; returns the console. */
function qemu(args: string[], seconds: number): Promise<{ code: number | null; console: string }> {
  return new Promise((resolve) => {
    const child = spawn(findTool(QEMU)!, ['-m', '512M', '-smp', '2', '-nographic', '-nodefaults', '-no-reboot', '-accel', 'tcg', '-cpu', 'max', '-serial', 'stdio', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b.toString()));
    child.stderr.on('data', (b: Buffer) => (text += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), seconds * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, console: text });
    });
  });
}

const drive = (file: string, format: string): string[] => ['-drive', `file=${file},if=none,id=hd0,format=${format}`, '-device', 'virtio-blk-pci,drive=hd0', '-device', 'virtio-rng-pci'];

describe.skipIf(reason !== undefined)('booting built images with OSV_KERNEL', () => {
  it('direct kernel boot of a disk image (MBR + ROFS) runs the program', async () => {
    const k = await resolveKernel({ kernel: { hiddenSymbols: false }, arch: 'x86_64' }, process.env);
    if (!k.ok) throw k.error;
    expect(k.value.elf, 'OSV_KERNEL must provide loader-stripped.elf').toBeDefined();
    const img = join(work, 'hello-disk.img');
    const r = await composeDisk({ outPath: img, layout: 'disk', fs: { kind: 'rofs', entries: helloEntries(k.value) } });
    if (!r.ok) throw r.error;
    const run = await qemu(['-kernel', k.value.elf!, '-append', '--rootfs=rofs /hello direct-boot', ...drive(img, 'raw')], 60);
    expect(run.console).toContain('hello from osv-up: direct-boot');
    expect(run.code).toBe(0);
  }, 90_000);

  it('a bootable qcow2 image boots by itself with the command line stored at byte 512', async (ctx) => {
    const k = await resolveKernel({ kernel: { hiddenSymbols: false }, arch: 'x86_64' }, process.env);
    if (!k.ok) throw k.error;
    if (!k.value.img) {
      console.warn('skipped: OSV_KERNEL has no loader.img, so no bootable image can be built');
      ctx.skip();
    }
    const img = join(work, 'hello-boot.qcow2');
    const r = await composeDisk({
      outPath: img,
      layout: 'bootable',
      format: 'qcow2',
      fs: { kind: 'rofs', entries: helloEntries(k.value) },
      cmdline: '--rootfs=rofs /hello from-byte-512',
      loaderImg: k.value.img!,
    });
    if (!r.ok) throw r.error;
    // Boot-sector boot decompresses the kernel under emulation: several seconds on TCG.
    const run = await qemu(drive(img, 'qcow2'), 100);
    expect(run.console).toContain('hello from osv-up: from-byte-512');
    expect(run.code).toBe(0);
  }, 120_000);
});
