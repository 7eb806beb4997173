// The one line `osv test` prints for a failed run, and its hint, are what a user reads in CI:
// each failure path's reason and hint asserted in full, on real transcripts where one shows
// the path, else on the console lines and hypervisor ends that lead there.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanConsole } from '../../src/run/scanner.js';
import { hypervisorError, programStatus, verdict, type HypervisorExit, type Verdict } from '../../src/run/verdict.js';

const TRANSCRIPTS = join(import.meta.dirname, 'transcripts');
const FIXTURES = '/work/shared/fixtures/console';
const haveFixtures = existsSync(FIXTURES);
if (!haveFixtures) console.warn(`skipped: the fixture transcripts' reasons (${FIXTURES} not found)`);

const qemuExit = (exitCode: number | null, more: Partial<HypervisorExit> = {}): HypervisorExit => ({ hypervisor: 'qemu', exitCode, signal: null, stderr: '', ...more });
const timeout = (ms: number, more: Partial<HypervisorExit> = {}): HypervisorExit => qemuExit(null, { signal: 'SIGTERM', stoppedBy: 'timeout', timeoutMs: ms, ...more });
const failed = (v: Verdict): { reason: string; hint: string | undefined } => {
  if (v.ok) throw new Error(`expected a failure, got a pass: ${v.reason}`);
  return { reason: v.reason, hint: v.hint };
};
/** A --verbose console: OSv's debug lines around the program's. */
const verbose = (...lines: string[]): string => ['2 CPUs detected', 'VFS: mounting rofs at /rofs', 'Cmdline: /prog', ...lines, 'VFS: unmounting /dev', 'Powering off.', ''].join('\r\n');

const SHIP_IT = '(`osv plan` shows what is in the image; a file copied with `resolve: false` gets no libraries)';

describe('the reason and hint of each failure, on real transcripts', () => {
  const cases: Array<{ dir: string; file: string; exit?: HypervisorExit; reason: string; hint: string | undefined }> = [
    { dir: TRANSCRIPTS, file: 'c-abort.txt', reason: 'the guest aborted: console line 7: "Aborted"', hint: undefined },
    { dir: TRANSCRIPTS, file: 'c-exit3.txt', reason: 'the program exited with status 3: console line 6: "program exited with status 3"', hint: undefined },
    { dir: TRANSCRIPTS, file: 'c-return2.txt', reason: '/prog returned with status 2: console line 6: "program /prog returned 2"', hint: undefined },
    {
      dir: TRANSCRIPTS,
      file: 'no-program.txt',
      reason: 'OSv could not load /nonexistent (missing from the image, or not a loadable ELF): console line 6: "Failed to load object: /nonexistent. Powering off."',
      hint: 'check the command line path and `osv plan` (is the file, and every library it needs, in the image?)',
    },
    {
      dir: TRANSCRIPTS,
      file: 'non-ascii-cmdline.quiet.txt',
      reason: 'OSv could not parse its command line (a character it cannot take, or unbalanced quotes): console line 6: "Failed to parse command line."',
      hint: 'OSv takes printable ASCII only: `osv plan` refuses other characters in cmd, env and cwd; check -e',
    },
    {
      dir: TRANSCRIPTS,
      file: 'missing-library.txt',
      reason: 'symbol gone is not provided by the kernel or any library in the image (needed by /usegone): console line 7: "/usegone: failed looking up symbol gone"',
      hint: `OSv could not load libgone.so, which the program needs: ship it ${SHIP_IT}`,
    },
    {
      dir: TRANSCRIPTS,
      file: 'c-hang.txt',
      exit: timeout(8000),
      reason: 'timed out after 8 s; last console line: "mode hang"',
      hint: 'a halted or still-running guest: raise the timeout (--timeout, run.timeout), or look for a hang; a server that never powers off wants --stop-on-expect',
    },
    {
      dir: TRANSCRIPTS,
      file: 'c-ok.quiet.txt',
      reason: "the guest powered off, but the program's exit status is unknown: OSv printed no exit status: the kernel's command line lacks --verbose (an image built by an older osv-up, or -e without it)",
      hint: 'rebuild the image with this osv-up (it adds --verbose), or add --verbose to the -e command line',
    },
    { dir: FIXTURES, file: 'fail-unknown-option.txt', reason: 'OSv does not accept the option --bogus: console line 3: "unrecognized option: bogus"', hint: 'fix the kernel options before the program in the command line' },
    { dir: FIXTURES, file: 'fail-empty-cmdline.txt', reason: 'the image has no command to run: console line 5: "This image has an empty command line. Nothing to run."', hint: 'set `cmd` in osv.yaml, or pass -e' },
    {
      dir: FIXTURES,
      file: 'fail-ls-l-symbol-poweroff.txt',
      reason: 'symbol lgetxattr is not provided by the kernel or any library in the image (needed by /usr/lib/libselinux.so.1): console line 5: "/usr/lib/libselinux.so.1: failed looking up symbol lgetxattr"',
      hint: 'ship the library that defines it (`osv check` lists unresolved symbols), or avoid the call',
    },
  ];
  for (const c of cases) {
    it.skipIf(c.dir === FIXTURES && !haveFixtures)(c.file, () => {
      const v = verdict(scanConsole(readFileSync(join(c.dir, c.file))), c.exit ?? qemuExit(0));
      expect(failed(v)).toEqual({ reason: c.reason, hint: c.hint });
      // No hint key at all when there is none (the CLI prints what is there).
      expect('hint' in v).toBe(c.hint !== undefined);
    });
  }

  it('the finding that decided travels with the verdict', () => {
    const v = verdict(scanConsole(readFileSync(join(TRANSCRIPTS, 'no-program.txt'))), qemuExit(0));
    expect(v).toMatchObject({ ok: false, code: 'guest-failure', finding: { kind: 'load-failed', object: '/nonexistent', lineNo: 6 } });
  });
});

describe('hints', () => {
  const hintOf = (text: string): string | undefined => failed(verdict(scanConsole(text), qemuExit(0))).hint;
  const procfsBacktrace = ['[backtrace]', '0x0000000040239628 <__assert_fail+24>', '0x00000000402b5806 <mmu::procfs_maps[abi:cxx11]()+726>', '0x00000000403fe974 <fopen64+68>'];
  const PROCFS_HINT =
    'OSv failed while writing /proc/self/maps (a kernel bug once the program maps shared memory); leave procfs out with `image: {mounts: {/proc: false}}` (template:node does: see docs/templates.md)';

  it('the /proc/self/maps hint follows an abort or a page fault through that frame, not a missing symbol', () => {
    expect(hintOf(verbose('Aborted', ...procfsBacktrace))).toBe(PROCFS_HINT);
    expect(hintOf(verbose('page fault outside application, addr: 0x0000000000000000', ...procfsBacktrace))).toBe(PROCFS_HINT);
    expect(hintOf(verbose('/prog: failed looking up symbol shmat', ...procfsBacktrace))).toBe('ship the library that defines it (`osv check` lists unresolved symbols), or avoid the call');
    // A frame whose name only starts like it is another function.
    expect(hintOf(verbose('Aborted', '[backtrace]', '0x00000000402b5806 <mmu::procfs_mapsx()+726>'))).toBeUndefined();
  });

  it('several libraries OSv could not load are all named', () => {
    expect(hintOf(verbose('could not load liba.so', 'could not load libb.so.2', '/prog: failed looking up symbol f'))).toBe(`OSv could not load liba.so, libb.so.2, which the program needs: ship them ${SHIP_IT}`);
  });

  it('a page fault alone gets no hint', () => {
    expect(hintOf(verbose('page fault outside application, addr: 0x0000000000000000'))).toBeUndefined();
  });
});

describe('the quoted console line', () => {
  it('is quoted whole up to 200 characters, cut to 197 and "..." beyond', () => {
    const line = (n: number): string => `Failed to load object: /${'a'.repeat(n - 24)}`;
    expect(line(200)).toHaveLength(200);
    const reason = (n: number): string => failed(verdict(scanConsole(`Cmdline: /x\n${line(n)}\n`), qemuExit(0))).reason;
    expect(reason(200)).toMatch(new RegExp(`: console line 2: "${line(200).replace(/\//g, '\\/')}"$`));
    expect(reason(201)).toMatch(new RegExp(`: console line 2: "${line(201).slice(0, 197).replace(/\//g, '\\/')}\\.\\.\\."$`));
  });
});

describe('timeouts and expectations', () => {
  it('names the pattern that did not appear and the last line; a silent console says so', () => {
    expect(failed(verdict(scanConsole(verbose('listening'), { expect: /^ready$/ }), timeout(2500))).reason).toBe('timed out after 2.5 s before /^ready$/ appeared; last console line: "listening"');
    expect(failed(verdict(scanConsole(''), timeout(30000, { defaultTimeout: true }))).reason).toBe("timed out after 30 s (osv test's default timeout); the console stayed silent");
    // The expected line appeared, the program went on: only the time is the matter.
    expect(failed(verdict(scanConsole(verbose('ready', 'working'), { expect: /^ready$/ }), timeout(1000))).reason).toBe('timed out after 1 s; last console line: "working"');
  });

  it('a guest that powered off without the expected line', () => {
    const v = verdict(scanConsole(verbose('Hello'), { expect: /^done$/ }), qemuExit(0));
    expect(v).toMatchObject({ ok: false, code: 'expect-missing', exitCode: 4 });
    expect(failed(v)).toEqual({ reason: 'the guest powered off, but no console line matched /^done$/; last console line: "Hello"', hint: undefined });
  });

  it('a pass names the line that matched', () => {
    expect(verdict(scanConsole(verbose('Hello'), { expect: /^Hello$/ }), qemuExit(0))).toMatchObject({ ok: true, reason: 'the program exited with status 0; /^Hello$/ matched "Hello"' });
    const stopped = verdict(scanConsole('Cmdline: /srv\nServing HTTP on 0.0.0.0\n', { expect: /Serving HTTP/ }), qemuExit(null, { signal: 'SIGTERM', stoppedBy: 'expect' }));
    expect(stopped).toMatchObject({ ok: true, reason: 'the expected line appeared and the VM was stopped; /Serving HTTP/ matched "Serving HTTP on 0.0.0.0"' });
  });

  it('an interrupt is one plain reason', () => {
    expect(failed(verdict(scanConsole(verbose('Hello')), qemuExit(0, { stoppedBy: 'interrupt' })))).toEqual({ reason: 'interrupted: the VM was stopped', hint: undefined });
  });
});

describe('the hypervisor\'s end', () => {
  const reasonOf = (exit: HypervisorExit): { reason: string; hint: string | undefined } => failed(verdict(scanConsole(verbose('Hello')), exit));

  it('could not be started', () => {
    expect(reasonOf(qemuExit(null, { spawnError: 'qemu-system-x86_64: not found' }))).toEqual({ reason: 'QEMU could not be started: qemu-system-x86_64: not found', hint: undefined });
    expect(reasonOf({ hypervisor: 'firecracker', exitCode: null, signal: null, stderr: '', spawnError: 'firecracker: not found' }).reason).toBe('Firecracker could not be started: firecracker: not found');
  });

  it('a busy forwarded port on every address', () => {
    expect(reasonOf(qemuExit(1, { stderr: "qemu-system-x86_64: -netdev user,id=un0,hostfwd=tcp::8080-:80: Could not set up host forwarding rule 'tcp::8080-:80'\n" }))).toEqual({
      reason: `host port 8080/tcp on all addresses is already in use (QEMU: "-netdev user,id=un0,hostfwd=tcp::8080-:80: Could not set up host forwarding rule 'tcp::8080-:80'")`,
      hint: 'free the port or forward a different host port (-p HOST:GUEST)',
    });
  });

  it('its own error line, without its name, trimmed; its note about our signal is no error', () => {
    expect(reasonOf(qemuExit(1, { stderr: '\n   qemu-system-x86_64: -drive file=/x: Could not open \'/x\'   \r\n' })).reason).toBe('QEMU exited with status 1: "-drive file=/x: Could not open \'/x\'"');
    expect(reasonOf(qemuExit(1, { stderr: 'qemu-system-x86_64: terminating on signal 15 from pid 5775 (timeout)\n\n' })).reason).toBe('QEMU exited with status 1');
    expect(reasonOf({ hypervisor: 'firecracker', exitCode: 1, signal: null, stderr: 'firecracker: Error creating the VM\n' }).reason).toBe('Firecracker exited with status 1: "Error creating the VM"');
  });

  it('hypervisorError: the first error, else the first warning; only the program-name prefix goes', () => {
    expect(hypervisorError('qemu-system-x86_64: warning: host does not support x\nqemu-system-x86_64: -m 1T: cannot set up guest memory\n')).toBe('-m 1T: cannot set up guest memory');
    expect(hypervisorError('qemu-system-x86_64: warning: host does not support x\n')).toBe('warning: host does not support x');
    expect(hypervisorError('qemu-system-aarch64: bad\n')).toBe('bad');
    expect(hypervisorError('qemu: bad\n')).toBe('bad');
    expect(hypervisorError('my-qemu: bad\n')).toBe('my-qemu: bad');
    expect(hypervisorError('qemu-system-: bad\n')).toBe('qemu-system-: bad');
    expect(hypervisorError('')).toBeUndefined();
  });
});

describe('the program\'s status', () => {
  it('the first nonzero status OSv reported, over an earlier 0', () => {
    const scan = scanConsole(verbose('program exited with status 0', 'program /b returned 3'));
    expect(programStatus(scan, qemuExit(0))).toEqual({ known: true, status: 3, evidence: 'program /b returned 3' });
  });

  it('0 inferred only from a clean, --verbose power-off; it says how', () => {
    expect(programStatus(scanConsole(verbose('Hello')), qemuExit(0))).toEqual({
      known: true,
      status: 0,
      evidence: 'the guest powered off after the program returned, and OSv (--verbose) reported no other status',
    });
  });

  it('unknown otherwise, and why', () => {
    const scan = scanConsole(verbose('Hello'));
    const why = (exit: HypervisorExit): string | undefined => {
      const s = programStatus(scan, exit);
      return s.known ? undefined : s.why;
    };
    expect(why(qemuExit(0, { stoppedBy: 'interrupt' }))).toBe('the run was interrupted');
    expect(why(qemuExit(0, { stoppedBy: 'expect' }))).toBe('the VM was stopped once the expected line appeared');
    expect(why(qemuExit(0, { stoppedBy: 'timeout' }))).toBe('the run was stopped by the timeout before the program ended');
    expect(why(qemuExit(1))).toBe('QEMU did not end normally');
    // A spawn error reported after the child was running, with a 0 exit.
    expect(why(qemuExit(0, { spawnError: 'EPIPE' }))).toBe('QEMU did not end normally');
    expect(why({ hypervisor: 'firecracker', exitCode: 1, signal: null, stderr: '' })).toBe('Firecracker did not end normally');
    expect(programStatus(scanConsole(verbose('Aborted')), qemuExit(0))).toEqual({ known: false, why: 'the guest failed before the program ended' });
  });
});
