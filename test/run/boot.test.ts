// Real OSv boots, when OSV_KERNEL names a loader-stripped.elf: images made with the project's
// own ROFS writer and disk layout (src/image/), programs compiled here with gcc, run by the
// runner under QEMU exactly as `osv run` / `osv up` do.

import { execFileSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { composeDisk } from '../../src/image/disk.js';
import type { ImageEntry } from '../../src/image/entries.js';
import { which } from '../../src/run/binaries.js';
import { resolveKernelPath } from '../../src/kernel/local.js';
import { executeRun, prepareRun, type RunIo, type RunRequest } from '../../src/run/runner.js';
import type { Boot } from '../../src/run/spec.js';
import { hasGcc, tempDir } from './helpers/fake-guest.js';

// OSV_KERNEL may name a kernel directory or one of its files; the runner boots the ELF.
const kernelFiles = process.env['OSV_KERNEL'] ? resolveKernelPath(process.env['OSV_KERNEL'], 'x86_64', 'OSV_KERNEL') : undefined;
const kernel = kernelFiles?.ok ? kernelFiles.value.elf : undefined;
const qemu = which('qemu-system-x86_64');
const canBoot = Boolean(kernel && existsSync(kernel) && qemu && hasGcc);
if (!canBoot) console.warn(`skipped: real OSv boot tests need OSV_KERNEL (an OSv kernel directory or loader-stripped.elf; now ${process.env['OSV_KERNEL'] ?? 'unset'}), qemu-system-x86_64 and gcc`);

const MiB = 1024 * 1024;
const file = (guest: string, host: string): ImageEntry => ({ kind: 'file', guest, host, size: statSync(host).size });

const C = {
  hello: '#include <stdio.h>\nint main(int c, char **v) { printf("Hello from C code\\n"); return c > 1 ? 3 : 0; }\n',
  foo: 'int foo(void) { return 42; }\n',
  usefoo: '#include <stdio.h>\nint foo(void);\nint main(void) { printf("foo=%d\\n", foo()); return 0; }\n',
  server: `#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
int main(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET; a.sin_port = htons(8000); a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(s, (void *)&a, sizeof a) || listen(s, 1)) { perror("listen"); return 1; }
  printf("listening on 8000\\n"); fflush(stdout);
  int c = accept(s, 0, 0);
  const char *m = "hello from OSv\\n";
  write(c, m, strlen(m)); close(c); close(s);
  printf("served one connection\\n");
  return 0;
}
`,
};

class Capture {
  text = '';
  write(c: Buffer | string): boolean {
    this.text += c.toString();
    return true;
  }
}

describe.skipIf(!canBoot)('real OSv boots (OSV_KERNEL)', () => {
  const dir = canBoot ? tempDir() : '';
  const img: Record<string, string> = {};
  beforeAll(async () => {
    const cc = (name: string, args: string[]): string => {
      const src = join(dir, `${name}.c`);
      writeFileSync(src, C[name as keyof typeof C]);
      const out = join(dir, name.startsWith('lib') ? name : name);
      execFileSync('gcc', ['-O2', ...args, '-o', out, src], { cwd: dir });
      return out;
    };
    const hello = cc('hello', ['-fPIE', '-pie']);
    const server = cc('server', ['-fPIE', '-pie']);
    writeFileSync(join(dir, 'foo.c'), C.foo);
    execFileSync('gcc', ['-shared', '-fPIC', '-o', join(dir, 'libfoo.so'), join(dir, 'foo.c')]);
    writeFileSync(join(dir, 'usefoo.c'), C.usefoo);
    execFileSync('gcc', ['-fPIE', '-pie', '-o', join(dir, 'usefoo'), join(dir, 'usefoo.c'), `-L${dir}`, '-lfoo']);
    const make = async (name: string, entries: ImageEntry[]): Promise<void> => {
      const r = await composeDisk({ outPath: join(dir, `${name}.img`), layout: 'disk', fs: { kind: 'rofs', entries } });
      if (!r.ok) throw r.error;
      img[name] = r.value.path;
    };
    await make('hello', [file('/hello', hello)]);
    await make('server', [file('/server', server)]);
    await make('foo', [file('/usefoo', join(dir, 'usefoo')), file('/usr/lib/libfoo.so', join(dir, 'libfoo.so'))]);
    await make('foo-broken', [file('/usefoo', join(dir, 'usefoo'))]); // the library it needs is missing
  });

  const request = (image: string, cmdline: string, over: Partial<RunRequest> = {}): RunRequest => ({
    hypervisor: 'qemu',
    vm: {
      arch: 'x86_64',
      boot: { kind: 'kernel', kernel: kernel!, cmdline, disk: { path: img[image]!, format: 'raw' } } as Boot,
      memory: 512 * MiB,
      cpus: 2,
      network: { kind: 'none' },
      ports: [],
      volumes: [],
    },
    accel: 'auto',
    accelCacheFile: join(dir, 'accel.json'),
    timeout: 40,
    ...over,
  });

  const run = async (req: RunRequest, io: RunIo = {}) => {
    const prep = await prepareRun(req);
    if (!prep.ok) throw prep.error;
    const stdout = new Capture();
    const t0 = Date.now();
    const report = await executeRun(prep.value, { stdout, stderr: new Capture(), ...io });
    return { report, stdout: stdout.text, ms: Date.now() - t0 };
  };

  it('a C program boots, prints, powers off: osv up --ci passes', async () => {
    const r = await run(request('hello', '--rootfs=rofs /hello', { ci: true, expect: '^Hello from C code$' }));
    console.log(`hello: first program line after ${r.report.firstProgramLineMs} ms, QEMU done after ${r.ms} ms`);
    expect(r.report.verdict).toMatchObject({ ok: true });
    expect(r.stdout).toContain('Cmdline: /hello');
    expect(r.report.exit.exitCode).toBe(0);
  });

  it('with --verbose a nonzero return from main is caught', async () => {
    const r = await run(request('hello', '--rootfs=rofs --verbose /hello fail', { ci: true }));
    expect(r.report.verdict).toMatchObject({ ok: false, code: 'exit-status', finding: { kind: 'exit-status', status: 3 }, status: { known: true, status: 3 } });
    expect(!r.report.verdict.ok && r.report.verdict.reason).toContain('"program /hello returned 3"');
  });

  it('a program with its library boots; without it (a broken image) the missing symbol fails the run', async () => {
    expect((await run(request('foo', '--rootfs=rofs /usefoo', { ci: true, expect: '^foo=42$' }))).report.verdict.ok).toBe(true);
    const broken = await run(request('foo-broken', '--rootfs=rofs /usefoo', { ci: true }), { explainSymbol: (s) => (s === 'foo' ? '/usefoo' : undefined) });
    expect(broken.report.verdict).toMatchObject({ ok: false, finding: { kind: 'missing-symbol', symbol: 'foo', object: '/usefoo' } });
    // --power-off-on-abort (CI) lets OSv power off by itself.
    expect(broken.report.exit.stoppedBy).toBeUndefined();
    expect(broken.report.exit.exitCode).toBe(0);
  });

  it('without CI the aborted guest halts; the runner stops it after the failure line', async () => {
    const r = await run(request('foo-broken', '--rootfs=rofs /usefoo'), { failureGraceMs: 1000 });
    expect(r.report.exit.stoppedBy).toBe('failure');
    expect(r.report.verdict).toMatchObject({ ok: false, finding: { kind: 'missing-symbol' } });
    expect(r.ms).toBeLessThan(20_000);
  });

  it('a port forward reaches a server in the guest from the host', async () => {
    const port = await new Promise<number>((res) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
    });
    let answer = '';
    const ask = async (): Promise<void> => {
      for (let i = 0; i < 50 && !answer.includes('hello from OSv'); i++) {
        answer = await new Promise<string>((res) => {
          let got = '';
          const c = connect(port, '127.0.0.1');
          c.on('data', (d) => (got += d.toString()));
          c.on('close', () => res(got));
          c.on('error', () => res(''));
        });
        if (!answer) await new Promise((r) => setTimeout(r, 200));
      }
    };
    let asking: Promise<void> | undefined;
    let console_ = '';
    const base = request('server', '--rootfs=rofs /server', { ci: true, expect: '^served one connection$' });
    const r = await run(
      { ...base, vm: { ...base.vm, network: { kind: 'user' }, ports: [{ host: port, guest: 8000, protocol: 'tcp' }] } },
      {
        stdout: {
          // The serial console arrives in small pieces: look at everything so far.
          write: (c: Buffer | string) => {
            console_ += c.toString();
            if (!asking && console_.includes('listening on 8000')) asking = ask();
            return true;
          },
        },
      },
    );
    await asking;
    expect(answer).toBe('hello from OSv\n');
    expect(r.report.verdict).toMatchObject({ ok: true });
  });

  const loaderImg = kernel ? join(dirname(kernel), 'loader.img') : '';
  if (canBoot && !existsSync(loaderImg)) console.warn(`skipped: image boot needs loader.img next to OSV_KERNEL (${loaderImg})`);
  it.runIf(canBoot && existsSync(loaderImg))('a bootable image boots from its own boot sector with the command line inside it', async () => {
    const out = join(dir, 'bootable.img');
    const c = await composeDisk({ outPath: out, layout: 'bootable', loaderImg, cmdline: '--rootfs=rofs --verbose --power-off-on-abort /hello !', fs: { kind: 'rofs', entries: [file('/hello', join(dir, 'hello'))] } });
    if (!c.ok) throw c.error;
    const req = request('hello', '', { expect: '^Hello from C code$' });
    const r = await run({ ...req, vm: { ...req.vm, boot: { kind: 'image', disk: { path: out, format: 'raw' } } } });
    console.log(`bootable image: first program line after ${r.report.firstProgramLineMs} ms`);
    expect(r.report.verdict).toMatchObject({ ok: true, status: { known: true, status: 0 } });
    expect(r.stdout).toContain('Booting from Hard Disk');
  });
});
