import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConsoleScanner, scanConsole, stripAnsi, type FailureKind } from '../../src/run/scanner.js';
import { verdict, type HypervisorExit } from '../../src/run/verdict.js';

const FIXTURES = '/work/shared/fixtures/console';
const haveFixtures = existsSync(FIXTURES);
if (!haveFixtures) console.warn(`skipped: console transcripts not found at ${FIXTURES}`);

const qemuExit = (exitCode: number | null, more: Partial<HypervisorExit> = {}): HypervisorExit => ({ hypervisor: 'qemu', exitCode, signal: null, stderr: '', ...more });

interface Expected {
  /** How QEMU ended when the transcript was recorded (fixtures README). */
  exit: HypervisorExit;
  ok: boolean;
  kind?: FailureKind;
  /** Text the one-line reason must contain (the deciding console line). */
  quotes?: string;
  symbol?: string;
  object?: string;
  status?: number;
}

// The verdict each recorded transcript must get, from the fixtures README.
const EXPECTED: Record<string, Expected> = {
  'ok-hello.txt': { exit: qemuExit(0), ok: true },
  'ok-python.txt': { exit: qemuExit(0), ok: true },
  'ok-ls-a.txt': { exit: qemuExit(0), ok: true },
  'fail-ls-l-symbol.txt': {
    // Hung after the failure; the recording killed QEMU after 20 s. The failure line decides, not the timeout.
    exit: qemuExit(null, { signal: 'SIGTERM', stoppedBy: 'timeout', timeoutMs: 20000, stderr: 'qemu-system-x86_64: terminating on signal 15 from pid 5775 (timeout)\n' }),
    ok: false,
    kind: 'missing-symbol',
    quotes: '/usr/lib/libselinux.so.1: failed looking up symbol lgetxattr',
    symbol: 'lgetxattr',
    object: '/usr/lib/libselinux.so.1',
  },
  'fail-ls-l-symbol-poweroff.txt': { exit: qemuExit(0), ok: false, kind: 'missing-symbol', quotes: 'failed looking up symbol lgetxattr', symbol: 'lgetxattr' },
  'fail-no-program.txt': { exit: qemuExit(0), ok: false, kind: 'load-failed', quotes: 'Failed to load object: /nonexistent. Powering off.', object: '/nonexistent' },
  'fail-unknown-option.txt': { exit: qemuExit(0), ok: false, kind: 'bad-option', quotes: 'unrecognized option: bogus' },
  'fail-empty-cmdline.txt': { exit: qemuExit(0), ok: false, kind: 'empty-cmdline', quotes: 'This image has an empty command line' },
  // The exit status 3 is lost without --verbose: nothing on the console, QEMU exits 0. Only
  // an expectation can catch it (tested below); the scanner alone must not invent a failure.
  'fail-python-exception.txt': { exit: qemuExit(0), ok: true },
  'verbose-python-exit3.txt': { exit: qemuExit(0), ok: false, kind: 'exit-status', quotes: 'program exited with status 3', status: 3 },
  'verbose-ls-ok.txt': { exit: qemuExit(0), ok: true },
};

describe.skipIf(!haveFixtures)('console scanner on every recorded OSv transcript', () => {
  const files = haveFixtures ? readdirSync(FIXTURES).filter((f) => f.endsWith('.txt')).sort() : [];

  it('has an expected verdict for every transcript in the fixtures', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !(f in EXPECTED))).toEqual([]);
  });

  for (const file of Object.keys(EXPECTED)) {
    it(`${file}: ${EXPECTED[file]!.ok ? 'passes' : `fails (${EXPECTED[file]!.kind})`}`, () => {
      const path = join(FIXTURES, file);
      if (!existsSync(path)) {
        console.warn(`skipped: ${path} is missing`);
        return;
      }
      const e = EXPECTED[file]!;
      const text = readFileSync(path);
      const whole = scanConsole(text);
      // Fed one byte at a time (escape sequences and CRLF split across chunks), the result is the same.
      const s = new ConsoleScanner();
      for (let i = 0; i < text.length; i++) s.feed(text.subarray(i, i + 1));
      s.end();
      expect(s.result).toEqual(whole);

      const v = verdict(whole, e.exit);
      expect(v.ok).toBe(e.ok);
      if (!v.ok) {
        expect(v.exitCode).toBe(4);
        expect(v.finding?.kind).toBe(e.kind);
        expect(v.reason).toContain(e.quotes!);
        expect(v.reason).not.toMatch(/\n/); // one line
        expect(v.reason).not.toContain('\x1b');
        if (e.symbol) expect(v.finding?.symbol).toBe(e.symbol);
        if (e.object) expect(v.finding?.object).toBe(e.object);
        if (e.status !== undefined) expect(v.finding?.status).toBe(e.status);
      } else {
        expect(v.exitCode).toBe(0);
        expect(whole.failures).toEqual([]);
      }
    });
  }

  it('an expectation catches the lost exit status of fail-python-exception.txt', () => {
    const text = readFileSync(join(FIXTURES, 'fail-python-exception.txt'));
    const v = verdict(scanConsole(text, { expect: /^done$/ }), qemuExit(0));
    expect(v).toMatchObject({ ok: false, code: 'expect-missing' });
    if (!v.ok) expect(v.reason).toContain('no console line matched /^done$/');
  });

  it('ok-python.txt meets the expectation of its output, not of its command-line echo', () => {
    const text = readFileSync(join(FIXTURES, 'ok-python.txt'));
    const good = scanConsole(text, { expect: /^42$/ });
    expect(good.expectMatch).toEqual({ line: '42', lineNo: 5 });
    expect(verdict(good, qemuExit(0))).toMatchObject({ ok: true });
    // "print(6*7)" appears only in OSv's "Cmdline:" echo, which must not count.
    const echoOnly = scanConsole(text, { expect: /print\(6\*7\)/ });
    expect(echoOnly.expectMatch).toBeUndefined();
  });

  it('verbose-ls-ok.txt: the symbols the loader ignored are recorded, not failures', () => {
    const r = scanConsole(readFileSync(join(FIXTURES, 'verbose-ls-ok.txt')));
    expect(r.failures).toEqual([]);
    expect(r.ignoredSymbols).toHaveLength(12);
    expect(r.ignoredSymbols).toContainEqual({ object: '/usr/lib/libselinux.so.1', symbol: 'lgetxattr' });
  });

  it('the first failure decides: the backtrace after a missing symbol does not replace it', () => {
    const r = scanConsole(readFileSync(join(FIXTURES, 'fail-ls-l-symbol-poweroff.txt')));
    expect(r.failures.map((f) => f.kind)).toEqual(['missing-symbol', 'abort']);
  });

  it('the symbol hook names the object that needed the symbol in the hint', () => {
    const text = readFileSync(join(FIXTURES, 'fail-ls-l-symbol-poweroff.txt'));
    const v = verdict(scanConsole(text), qemuExit(0), { explainSymbol: (sym) => (sym === 'lgetxattr' ? '/usr/lib/libselinux.so.1 (needed by /ls)' : undefined) });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.hint).toBe('lgetxattr is needed by /usr/lib/libselinux.so.1 (needed by /ls); ship the library that defines it, or avoid the call (OSv lacks some Linux functions)');
  });
});

describe('console scanner rules', () => {
  const kinds = (text: string): string[] => scanConsole(text).failures.map((f) => f.kind);

  it('strips escape sequences, CR and other controls', () => {
    expect(stripAnsi('\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS\r')).toBe('SeaBIOS');
    expect(stripAnsi('\x1b]0;title\x07text\x1b[1;31mred\x1b[0m')).toBe('textred');
  });

  it('recognises OSv failure lines', () => {
    expect(kinds('Aborted\n')).toEqual(['abort']);
    expect(kinds('page fault outside application, addr: 0x0000000000000000\n')).toEqual(['page-fault']);
    expect(kinds('Assertion failed: x (core/a.cc: f: 12)\n')).toEqual(['assertion']);
    expect(kinds("hello: hello.c:3: main: Assertion `0' failed.\n")).toEqual(['assertion']);
    expect(kinds('Unknown console: nope\n')).toEqual(['bad-console']);
    expect(kinds('Failed looking up symbol _ZNSt8ios_base4InitC1Ev\n')).toEqual(['missing-symbol']);
    expect(kinds('program /hello returned 2\n')).toEqual(['exit-status']);
    expect(kinds('program /hello returned 0\nprogram exited with status 0\n')).toEqual([]);
    expect(kinds('No bootable device.\n')).toEqual(['not-bootable']);
  });

  it('does not flag "aborted" inside OSv\'s option list or ordinary output', () => {
    expect(kinds("  --power-off-on-abort  use poweroff instead of halt if it's aborted\n")).toEqual([]);
    expect(kinds('the request was Aborted by the user\n')).toEqual([]);
  });

  it('an unterminated last line still counts', () => {
    const r = scanConsole('Cmdline: /x\nready', { expect: /^ready$/ });
    expect(r.expectMatch?.line).toBe('ready');
    expect(r.lastLine).toBe('ready');
  });

  it('KVM errors come from the hypervisor stderr, not the console', () => {
    const r = scanConsole('', {}, 'KVM internal error. Suberror: 1\nemulation failure\n');
    expect(r.failures[0]?.kind).toBe('kvm-error');
    expect(scanConsole('KVM internal error\n').failures).toEqual([]);
  });

  it('UTF-8 split across chunks is decoded once whole', () => {
    const s = new ConsoleScanner({ expect: /^héllo$/ });
    const bytes = Buffer.from('Cmdline: /x\nhéllo\n');
    const cut = bytes.indexOf(0xc3) + 1;
    s.feed(bytes.subarray(0, cut));
    s.feed(bytes.subarray(cut));
    expect(s.result.expectMatch?.line).toBe('héllo');
  });
});

describe('verdict', () => {
  const empty = scanConsole('Cmdline: /hello\nHello\n');

  it('passes only on a normal power-off', () => {
    expect(verdict(empty, qemuExit(0))).toMatchObject({ ok: true, exitCode: 0, reason: 'the guest powered off normally' });
  });

  it('interrupt wins and exits 130', () => {
    expect(verdict(empty, qemuExit(0, { stoppedBy: 'interrupt' }))).toMatchObject({ ok: false, exitCode: 130, code: 'interrupted' });
  });

  it('a timeout quotes the last console line', () => {
    const v = verdict(scanConsole('Cmdline: /srv\nlistening\n', { expect: /^ready$/ }), qemuExit(null, { signal: 'SIGTERM', stoppedBy: 'timeout', timeoutMs: 2500 }));
    expect(v).toMatchObject({ ok: false, code: 'timeout', exitCode: 4 });
    if (!v.ok) expect(v.reason).toBe('timed out after 2.5 s before /^ready$/ appeared; last console line: "listening"');
  });

  it('a QEMU error is quoted, and a busy forwarded port is named', () => {
    const v = verdict(empty, qemuExit(1, { stderr: "qemu-system-x86_64: -netdev user,id=un0,hostfwd=tcp:127.0.0.1:8080-:80: Could not set up host forwarding rule 'tcp:127.0.0.1:8080-:80'\n" }));
    expect(v).toMatchObject({ ok: false, code: 'hypervisor-failed' });
    if (!v.ok) expect(v.reason).toMatch(/^host port 8080\/tcp on 127\.0\.0\.1 is already in use/);
    const w = verdict(empty, qemuExit(1, { stderr: "qemu-system-x86_64: warning: host doesn't support requested feature\nqemu: could not open kernel file '/k': No such file or directory\n" }));
    if (!w.ok) expect(w.reason).toBe('QEMU exited with status 1: "could not open kernel file \'/k\': No such file or directory"');
  });

  it('a backtrace through mmu::procfs_maps gets the hint that avoids it (node on OSv v0.57.0-398)', () => {
    // The console as OSv v0.57.0-398 printed it for node 20 with procfs mounted.
    const text = [
      'OSv v0.57.0-398-g0e34e4dc',
      'Cmdline: /usr/bin/node /app/server.js',
      'syscall(): unimplemented system call 125',
      'getauxval() stubbed',
      'Assertion failed: px != 0 (/usr/include/boost/smart_ptr/intrusive_ptr.hpp: operator->: 199)',
      '',
      '[backtrace]',
      '0x0000000040239628 <__assert_fail+24>',
      '0x00000000402b5806 <mmu::procfs_maps[abi:cxx11]()+726>',
      '0x00000000403bdedc <pseudofs::open(file*)+92>',
      '0x00000000403fe974 <fopen64+68>',
      '',
    ].join('\r\n');
    const scan = scanConsole(text);
    expect(scan.backtrace).toEqual(['__assert_fail', 'mmu::procfs_maps[abi:cxx11]()', 'pseudofs::open(file*)', 'fopen64']);
    const v = verdict(scan, qemuExit(0));
    expect(v).toMatchObject({ ok: false, code: 'guest-failure', finding: { kind: 'assertion' } });
    if (!v.ok) expect(v.hint).toContain('image: {mounts: {/proc: false}}');
    // Another assertion gets no such hint.
    const other = verdict(scanConsole(text.replace('mmu::procfs_maps[abi:cxx11]()', 'elf::object::relocate()')), qemuExit(0));
    if (!other.ok) expect(other.hint).toBeUndefined();
  });

  it('a guest stopped once its expected line appeared passes', () => {
    const r = scanConsole('Cmdline: /srv\nServing HTTP on 0.0.0.0\n', { expect: /Serving HTTP/ });
    expect(verdict(r, qemuExit(null, { signal: 'SIGTERM', stoppedBy: 'expect' }))).toMatchObject({ ok: true });
  });
});
