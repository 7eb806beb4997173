// Tiny real guests for QEMU, compiled with gcc per test run (never committed): a PVH kernel
// ELF that QEMU boots with -kernel like OSv's loader-stripped.elf, and a boot sector for
// image boot. Both write to the serial port what a real OSv would print (a recorded
// transcript), then power off the way OSv does without ACPI (i8042 reset; QEMU with
// -no-reboot exits 0) or halt forever as OSv does after an abort.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export { hasGcc } from '../../helpers/tools.js';

const made: string[] = [];
// Each test file evaluates this module afresh (vitest isolates files), so this hook joins the
// importing file's root suite and removes what its tests made. The benchmarks import this
// module outside vitest and clean up themselves.
if (process.env['VITEST']) {
  afterAll(() => {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });
}

export function tempDir(prefix = 'osv-run-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export interface FakeKernelOptions {
  /** Console text before OSv's "Cmdline:" echo. */
  head?: string;
  /** Echo the real command line ("Cmdline: ...") as OSv does after boot. */
  echo?: boolean;
  /** Console text after the echo. */
  tail?: string;
  /**
   * reset: power off (QEMU -no-reboot exits 0); halt: hang like an aborted OSv; repeat: print
   * the tail again and again (a busy wait between), like a service that keeps logging.
   */
  end: 'reset' | 'halt' | 'repeat';
  /**
   * An ELF64 x86-64 file (its code still 32-bit, entered through the PVH note) like OSv's
   * loader-stripped.elf, for what reads the kernel's architecture (osv build); else ELF32.
   */
  elf64?: boolean;
}

const asString = (s: string): string => s.replace(/\r?\n/g, '\r\n');

const END: Record<FakeKernelOptions['end'], string> = {
  reset: 'mov $0xfe, %al\n  out %al, $0x64',
  halt: 'cli',
  repeat: '5: mov $20000000, %ecx\n6: loop 6b\n  mov $tail, %esi\n  call puts\n  jmp 5b',
};

/** A PVH ELF kernel (XEN_ELFNOTE_PHYS32_ENTRY note) that prints and then resets or halts. */
export function buildFakeKernel(dir: string, name: string, o: FakeKernelOptions): string {
  writeFileSync(join(dir, `${name}.head`), asString(o.head ?? ''));
  writeFileSync(join(dir, `${name}.tail`), asString(o.tail ?? ''));
  const src = `
  .section .note.pvh, "a", @note
  .align 4
  .long 4, 4, 18          /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
  .asciz "Xen"
  .align 4
  .long _start
  .text
  .code32
  .globl _start
_start:
  mov 24(%ebx), %edi      /* hvm_start_info.cmdline_paddr */
  mov $head, %esi
  call puts
  ${o.echo ? 'mov $pre, %esi\n  call puts\n  mov %edi, %esi\n  call puts\n  mov $crlf, %esi\n  call puts' : ''}
  mov $tail, %esi
  call puts
  ${END[o.end]}
1: hlt
  jmp 1b
puts:                     /* as a UART driver does: wait until the transmitter is empty */
2: lodsb
  test %al, %al
  jz 3f
  mov %al, %ah
  mov $0x3fd, %dx
4: in %dx, %al
  test $0x20, %al
  jz 4b
  mov %ah, %al
  mov $0x3f8, %dx
  out %al, %dx
  jmp 2b
3: ret
  .data
pre: .asciz "Cmdline: "
crlf: .asciz "\\r\\n"
head: .incbin "${name}.head"
  .byte 0
tail: .incbin "${name}.tail"
  .byte 0
`;
  writeFileSync(join(dir, `${name}.S`), src);
  const out = join(dir, `${name}.elf`);
  execFileSync('gcc', [...(o.elf64 ? [] : ['-m32']), '-nostdlib', '-static', '-no-pie', '-Wl,-Ttext=0x100000', '-Wl,--build-id=none', '-o', out, `${name}.S`], { cwd: dir });
  return out;
}

/**
 * A raw disk whose boot sector prints `text` on the serial port and resets (image boot). It
 * first masks interrupts: SeaBIOS's timer interrupt mirrors the screen to the same serial port
 * (a reverse-video cursor `.`), and once landed inside the text.
 */
export function buildBootDisk(dir: string, name: string, text: string): string {
  writeFileSync(join(dir, `${name}.txt`), asString(text));
  const src = `
  .code16
  .globl _start
_start:
  cli
  xor %ax, %ax
  mov %ax, %ds
  mov $msg, %si
  mov $0x3f8, %dx
1: lodsb
  test %al, %al
  jz 2f
  out %al, %dx
  jmp 1b
2: mov $0xfe, %al
  out %al, $0x64
3: hlt
  jmp 3b
msg: .incbin "${name}.txt"
  .byte 0
  .org 510
  .byte 0x55, 0xaa
`;
  writeFileSync(join(dir, `${name}.S`), src);
  const elf = join(dir, `${name}.o.elf`);
  execFileSync('gcc', ['-m32', '-nostdlib', '-static', '-no-pie', '-Wl,-Ttext=0x7c00', '-Wl,--build-id=none', '-o', elf, `${name}.S`], { cwd: dir });
  const bin = join(dir, `${name}.img`);
  execFileSync('objcopy', ['-O', 'binary', '-j', '.text', elf, bin]);
  // A disk of 1 MiB: the boot sector, then zeros.
  const sector = readFileSync(bin);
  const disk = Buffer.alloc(1024 * 1024);
  sector.copy(disk);
  writeFileSync(bin, disk);
  return bin;
}

/**
 * A recorded OSv transcript split for replay: SeaBIOS's own lines (the real SeaBIOS prints
 * them), QEMU's stderr lines, and OSv's "Cmdline:" echo (the fake kernel echoes the real one).
 */
export function replayParts(transcript: string): { head: string; tail: string; echo: boolean } {
  const lines = transcript
    .replace(/^[\s\S]*?Booting from ROM\.+/, '')
    .split(/\r?\n/)
    .filter((l) => !l.startsWith('qemu-system-'));
  const at = lines.findIndex((l) => l.startsWith('Cmdline: '));
  if (at < 0) return { head: lines.join('\n'), tail: '', echo: false };
  return { head: lines.slice(0, at).join('\n') + '\n', tail: lines.slice(at + 1).join('\n'), echo: true };
}
