import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { addKernelOptions, hasKernelOption, splitCmdline } from '../../src/run/cmdline.js';
import { shellQuote } from '../../src/run/shell-quote.js';

describe('OSv command line (facts §5.2)', () => {
  it('splits loader options from the application part', () => {
    expect(splitCmdline('--rootfs=rofs --verbose /hello a -b')).toEqual({ options: ['--rootfs=rofs', '--verbose'], app: '/hello a -b' });
    expect(splitCmdline('  --env=A=b\\ c\t/x')).toEqual({ options: ['--env=A=b\\ c'], app: '/x' });
    expect(splitCmdline('--rootfs=rofs')).toEqual({ options: ['--rootfs=rofs'], app: '' });
    expect(splitCmdline('/only')).toEqual({ options: [], app: '/only' });
  });

  it('adds kernel options before the program, keeping --rootfs first', () => {
    expect(addKernelOptions('--rootfs=rofs /hello', ['--power-off-on-abort'])).toBe('--rootfs=rofs --power-off-on-abort /hello');
    expect(addKernelOptions('/hello --power-off-on-abort', ['--power-off-on-abort'])).toBe('--power-off-on-abort /hello --power-off-on-abort');
    expect(addKernelOptions('--rootfs=rofs', ['--verbose'])).toBe('--rootfs=rofs --verbose');
  });

  it('a repeatable option (--mount-fs, --env, --ip, --trace) is added unless the very same one is there', () => {
    const c = '--rootfs=rofs --mount-fs=zfs,/dev/vblk2,/z /x';
    expect(addKernelOptions(c, ['--mount-fs=ext,/dev/vblk1,/data'])).toBe('--rootfs=rofs --mount-fs=zfs,/dev/vblk2,/z --mount-fs=ext,/dev/vblk1,/data /x');
    expect(addKernelOptions('--rootfs=rofs --mount-fs=ext,/dev/vblk1,/data /x', ['--mount-fs=ext,/dev/vblk1,/data'])).toBe('--rootfs=rofs --mount-fs=ext,/dev/vblk1,/data /x');
    expect(addKernelOptions('--env=A=1 /x', ['--env=B=2'])).toBe('--env=A=1 --env=B=2 /x');
  });

  it('leaves an option the user already gave alone', () => {
    const c = '--rootfs=rofs --power-off-on-abort /hello';
    expect(addKernelOptions(c, ['--power-off-on-abort'])).toBe(c);
    expect(hasKernelOption('--ip=eth0,1.2.3.4,255.0.0.0 /x', 'ip')).toBe(true);
    expect(hasKernelOption('/x --ip=1', 'ip')).toBe(false);
  });
});

describe('shellQuote', () => {
  it('round-trips through a real shell', () => {
    const argv = ['qemu', '-append', "--rootfs=rofs /usr/bin/python3 -c print('hi')", 'a b', '', 'x"y', '$HOME', 'file=/p,,q'];
    const out = execFileSync('sh', ['-c', `for a in ${shellQuote(argv.slice(1))}; do printf '%s\\n' "[$a]"; done`], { encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(argv.slice(1).map((a) => `[${a}]`));
    expect(shellQuote(['-m', '512M', 'file=/a/b.img,if=none'])).toBe('-m 512M file=/a/b.img,if=none');
  });
});
