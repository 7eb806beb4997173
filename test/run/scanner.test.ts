import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConsoleScanner, MAX_SCANNED_LINE, scanConsole, stripAnsi, type FailureKind } from '../../src/run/scanner.js';
import { programExitCode, verdict, type HypervisorExit, type VerdictCode } from '../../src/run/verdict.js';

const FIXTURES = '/work/shared/fixtures/console';
const haveFixtures = existsSync(FIXTURES);
if (!haveFixtures) console.warn(`skipped: console transcripts not found at ${FIXTURES}`);

const qemuExit = (exitCode: number | null, more: Partial<HypervisorExit> = {}): HypervisorExit => ({ hypervisor: 'qemu', exitCode, signal: null, stderr: '', ...more });

interface Expected {
  /** How QEMU ended when the transcript was recorded (fixtures README). */
  exit: HypervisorExit;
  ok: boolean;
  /** The verdict's code when it fails. */
  code?: VerdictCode;
  kind?: FailureKind;
  /** Text the one-line reason must contain (the deciding console line). */
  quotes?: string;
  symbol?: string;
  object?: string;
  /** The program's exit status, when the transcript shows it. */
  status?: number;
}

const unknown = (quotes: string): Expected => ({ exit: qemuExit(0), ok: false, code: 'status-unknown', quotes });
const NO_VERBOSE = 'lacks --verbose';

// The verdict each recorded transcript must get, from the fixtures README. Without --verbose
// OSv never reports the program's status, so a quiet power-off is not a pass: that is how
// fail-python-exception.txt (status 3, lost) would otherwise have passed.
const EXPECTED: Record<string, Expected> = {
  'ok-hello.txt': unknown(NO_VERBOSE),
  'ok-python.txt': unknown(NO_VERBOSE),
  'ok-ls-a.txt': unknown(NO_VERBOSE),
  'fail-ls-l-symbol.txt': {
    // Hung after the failure; the recording killed QEMU after 20 s. The failure line decides, not the timeout.
    exit: qemuExit(null, { signal: 'SIGTERM', stoppedBy: 'timeout', timeoutMs: 20000, stderr: 'qemu-system-x86_64: terminating on signal 15 from pid 5775 (timeout)\n' }),
    ok: false,
    code: 'guest-failure',
    kind: 'missing-symbol',
    quotes: '/usr/lib/libselinux.so.1: failed looking up symbol lgetxattr',
    symbol: 'lgetxattr',
    object: '/usr/lib/libselinux.so.1',
  },
  'fail-ls-l-symbol-poweroff.txt': { exit: qemuExit(0), ok: false, code: 'guest-failure', kind: 'missing-symbol', quotes: 'failed looking up symbol lgetxattr', symbol: 'lgetxattr' },
  'fail-no-program.txt': { exit: qemuExit(0), ok: false, code: 'guest-failure', kind: 'load-failed', quotes: 'Failed to load object: /nonexistent. Powering off.', object: '/nonexistent' },
  'fail-unknown-option.txt': { exit: qemuExit(0), ok: false, code: 'guest-failure', kind: 'bad-option', quotes: 'unrecognized option: bogus' },
  'fail-empty-cmdline.txt': { exit: qemuExit(0), ok: false, code: 'guest-failure', kind: 'empty-cmdline', quotes: 'This image has an empty command line' },
  'fail-python-exception.txt': unknown(NO_VERBOSE),
  'verbose-python-exit3.txt': { exit: qemuExit(0), ok: false, code: 'exit-status', kind: 'exit-status', quotes: 'program exited with status 3', status: 3 },
  'verbose-ls-ok.txt': { exit: qemuExit(0), ok: true, status: 0 },
};

const fixture = (file: string): string => join(FIXTURES, file);

describe.skipIf(!haveFixtures)('console scanner on every recorded OSv transcript', () => {
  const files = haveFixtures ? readdirSync(FIXTURES).filter((f) => f.endsWith('.txt')).sort() : [];

  it('has an expected verdict for every transcript in the fixtures', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !(f in EXPECTED))).toEqual([]);
  });

  for (const file of Object.keys(EXPECTED)) {
    const e = EXPECTED[file]!;
    const present = haveFixtures && existsSync(fixture(file));
    if (haveFixtures && !present) console.warn(`skipped: ${fixture(file)} is missing`);
    it.skipIf(!present)(`${file}: ${e.ok ? 'passes' : `fails (${e.code}${e.kind ? `, ${e.kind}` : ''})`}`, () => {
      const text = readFileSync(fixture(file));
      const whole = scanConsole(text);
      // Fed one byte at a time (escape sequences and CRLF split across chunks), the result is the same.
      const s = new ConsoleScanner();
      for (let i = 0; i < text.length; i++) s.feed(text.subarray(i, i + 1));
      s.end();
      expect(s.result).toEqual(whole);

      const v = verdict(whole, e.exit);
      expect(v.ok).toBe(e.ok);
      expect(v.status.known ? v.status.status : undefined).toBe(e.status);
      if (v.ok) {
        expect(v.exitCode).toBe(0);
        expect(whole.failures).toEqual([]);
        return;
      }
      expect(v.exitCode).toBe(4);
      expect(v.code).toBe(e.code);
      expect(v.finding?.kind).toBe(e.kind);
      expect(v.reason).toContain(e.quotes!);
      expect(v.reason).not.toMatch(/\n/); // one line
      expect(v.reason).not.toContain('\x1b');
      if (e.symbol) expect(v.finding?.symbol).toBe(e.symbol);
      if (e.object) expect(v.finding?.object).toBe(e.object);
    });
  }

  it('an expectation is checked on the lost exit status of fail-python-exception.txt too', () => {
    const text = readFileSync(fixture('fail-python-exception.txt'));
    const v = verdict(scanConsole(text, { expect: /^done$/ }), qemuExit(0));
    expect(v).toMatchObject({ ok: false, code: 'expect-missing' });
    expect(!v.ok && v.reason).toContain('no console line matched /^done$/');
  });

  it('ok-python.txt meets the expectation of its output, not of its command-line echo', () => {
    const text = readFileSync(fixture('ok-python.txt'));
    const good = scanConsole(text, { expect: /^42$/ });
    expect(good.expectMatch).toEqual({ line: '42', lineNo: 5 });
    // "print(6*7)" appears only in OSv's "Cmdline:" echo, which must not count.
    const echoOnly = scanConsole(text, { expect: /print\(6\*7\)/ });
    expect(echoOnly.expectMatch).toBeUndefined();
  });

  it('the expected line is the program\'s: the firmware\'s, OSv\'s banner and its debug log never pass a run', () => {
    const plain = readFileSync(fixture('ok-python.txt'));
    for (const before of [/SeaBIOS/, /^OSv v0\.57/, /Booted up/, /OSv|42/]) {
      const r = scanConsole(plain, { expect: before });
      // The last one may match, but only at the program's line.
      expect(r.expectMatch?.line, String(before)).toBe(before.test('42') ? '42' : undefined);
    }
    const verbose = readFileSync(fixture('verbose-python-exit3.txt'));
    expect(scanConsole(verbose, { expect: /random: device unblocked/ }).expectMatch).toBeUndefined(); // after the echo, but OSv's
    expect(scanConsole(verbose, { expect: /VFS: mounting rofs/ }).expectMatch).toBeUndefined();
    // --stop-on-expect: no pass from a kernel line, however early it comes.
    const v = verdict(scanConsole('SeaBIOS\nOSv v0.57.0\nCmdline: /srv\n', { expect: /OSv/ }), qemuExit(null, { signal: 'SIGTERM', stoppedBy: 'timeout' }));
    expect(v.ok).toBe(false);
  });

  it('verbose-python-exit3.txt: the status line is recorded and OSv\'s debug log is recognised', () => {
    const r = scanConsole(readFileSync(fixture('verbose-python-exit3.txt')));
    expect(r.kernelLog).toBe(true);
    expect(r.exitStatuses).toEqual([{ status: 3, line: 'program exited with status 3', lineNo: 4 }]);
    // Debug lines are not the program's output, nor "the last line" a failure message quotes.
    expect(r.programLines).toBe(0);
    expect(r.lastLine).toBe('Cmdline: /usr/bin/python3 -c raise(SystemExit(3))');
  });

  it('verbose-ls-ok.txt: the symbols the loader ignored are recorded, not failures', () => {
    const r = scanConsole(readFileSync(fixture('verbose-ls-ok.txt')));
    expect(r.failures).toEqual([]);
    expect(r.ignoredSymbols).toHaveLength(12);
    expect(r.ignoredSymbols).toContainEqual({ object: '/usr/lib/libselinux.so.1', symbol: 'lgetxattr' });
  });

  it('the first failure decides: the backtrace after a missing symbol does not replace it', () => {
    const r = scanConsole(readFileSync(fixture('fail-ls-l-symbol-poweroff.txt')));
    expect(r.failures.map((f) => f.kind)).toEqual(['missing-symbol', 'abort']);
  });

  it('the symbol hook names the object that needed the symbol in the hint', () => {
    const text = readFileSync(fixture('fail-ls-l-symbol-poweroff.txt'));
    const v = verdict(scanConsole(text), qemuExit(0), { explainSymbol: (sym) => (sym === 'lgetxattr' ? '/usr/lib/libselinux.so.1 (needed by /ls)' : undefined) });
    expect(v.ok).toBe(false);
    expect(!v.ok && v.hint).toBe('lgetxattr is needed by /usr/lib/libselinux.so.1 (needed by /ls); ship the library that defines it, or avoid the call (OSv lacks some Linux functions)');
  });
});

// Transcripts recorded for these tests (transcripts/README.md): what each run must come to, in
// CI (`osv test`) and as `osv up`'s exit code.
const RECORDED = join(import.meta.dirname, 'transcripts');
const RECORDED_EXPECTED: Record<string, { exit: HypervisorExit; code?: VerdictCode; kind?: FailureKind; status?: number; upExit: number }> = {
  'c-ok.txt': { exit: qemuExit(0), status: 0, upExit: 0 },
  'c-ok.quiet.txt': { exit: qemuExit(0), code: 'status-unknown', upExit: 126 },
  'c-exit3.txt': { exit: qemuExit(0), code: 'exit-status', kind: 'exit-status', status: 3, upExit: 3 },
  'c-return2.txt': { exit: qemuExit(0), code: 'exit-status', kind: 'exit-status', status: 2, upExit: 2 },
  'c-abort.txt': { exit: qemuExit(0), code: 'guest-failure', kind: 'abort', upExit: 126 },
  'c-segv.txt': { exit: qemuExit(0), code: 'guest-failure', kind: 'abort', upExit: 126 },
  'c-hang.txt': { exit: qemuExit(null, { signal: 'SIGTERM', stoppedBy: 'timeout', timeoutMs: 8000 }), code: 'timeout', upExit: 126 },
  'no-program.txt': { exit: qemuExit(0), code: 'guest-failure', kind: 'load-failed', upExit: 127 },
  'non-ascii-cmdline.quiet.txt': { exit: qemuExit(0), code: 'guest-failure', kind: 'bad-cmdline', upExit: 126 },
  'ext-c-ok.txt': { exit: qemuExit(0), status: 0, upExit: 0 },
  'ext-c-ok.quiet.txt': { exit: qemuExit(0), code: 'status-unknown', upExit: 126 },
  'volume-c-ok.txt': { exit: qemuExit(0), status: 0, upExit: 0 },
  'volume-c-ok.quiet.txt': { exit: qemuExit(0), code: 'status-unknown', upExit: 126 },
  'volume-ro-write.txt': { exit: qemuExit(0), code: 'exit-status', kind: 'exit-status', status: 1, upExit: 1 },
  'volume-ro-write.quiet.txt': { exit: qemuExit(0), code: 'status-unknown', upExit: 126 },
  'python-no-stdlib.txt': { exit: qemuExit(0), code: 'exit-status', kind: 'exit-status', status: 1, upExit: 1 },
  'java-ok.txt': { exit: qemuExit(0), status: 0, upExit: 0 },
  'missing-library.txt': { exit: qemuExit(0), code: 'guest-failure', kind: 'missing-symbol', upExit: 126 },
};

describe('verdicts of the transcripts recorded from a real kernel', () => {
  it('missing-library.txt: the library OSv could not load is named in the hint', () => {
    const scan = scanConsole(readFileSync(join(RECORDED, 'missing-library.txt')));
    expect(scan.unloadedLibraries).toEqual(['libgone.so']);
    const v = verdict(scan, qemuExit(0));
    expect(!v.ok && v.hint).toMatch(/^OSv could not load libgone\.so, which the program needs/);
  });
  it('java-ok.txt: the loader\'s unbound symbols are noted, not failures', () => {
    expect(scanConsole(readFileSync(join(RECORDED, 'java-ok.txt'))).ignoredSymbols.length).toBeGreaterThan(0);
  });
  it('has an expectation for every recorded transcript', () => {
    expect(readdirSync(RECORDED).filter((f) => f.endsWith('.txt') && !(f in RECORDED_EXPECTED))).toEqual([]);
  });
  for (const [file, e] of Object.entries(RECORDED_EXPECTED)) {
    it(`${file}: ${e.code ?? 'passes'}${e.status !== undefined ? `, status ${e.status}` : ''}; osv up exits ${e.upExit}`, () => {
      const v = verdict(scanConsole(readFileSync(join(RECORDED, file))), e.exit);
      expect(v.ok ? undefined : v.code).toBe(e.code);
      expect(v.ok ? undefined : v.finding?.kind).toBe(e.kind);
      expect(v.status.known ? v.status.status : undefined).toBe(e.status);
      expect(v.exitCode).toBe(e.code ? 4 : 0);
      expect(programExitCode(v)).toBe(e.upExit);
    });
  }
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
    expect(kinds('Failed to parse command line.\n')).toEqual(['bad-cmdline']);
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

describe('console scanner: each failure line, what it says, and its near misses', () => {
  const findings = (text: string, stderr?: string): Array<Record<string, unknown>> =>
    scanConsole(text, {}, stderr).failures.map(({ line: _line, lineNo: _lineNo, ...rest }) => rest);

  it('each kind of failure line gets its summary (and its object, symbol or status)', () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['Failed to load object: /nonexistent. Powering off.', { kind: 'load-failed', object: '/nonexistent', summary: 'OSv could not load /nonexistent (missing from the image, or not a loadable ELF)' }],
      ['Failed to load object: /lib/x.so', { kind: 'load-failed', object: '/lib/x.so', summary: 'OSv could not load /lib/x.so (missing from the image, or not a loadable ELF)' }],
      [
        '/usr/lib/libselinux.so.1: failed looking up symbol lgetxattr',
        { kind: 'missing-symbol', symbol: 'lgetxattr', object: '/usr/lib/libselinux.so.1', summary: 'symbol lgetxattr is not provided by the kernel or any library in the image (needed by /usr/lib/libselinux.so.1)' },
      ],
      ['failed looking up symbol _ZNSt8ios_base4InitC1Ev', { kind: 'missing-symbol', symbol: '_ZNSt8ios_base4InitC1Ev', summary: 'symbol _ZNSt8ios_base4InitC1Ev is not provided by the kernel or any library in the image' }],
      ['unrecognized option: bogus', { kind: 'bad-option', summary: 'OSv does not accept the option --bogus' }],
      ['This image has an empty command line. Nothing to run.', { kind: 'empty-cmdline', summary: 'the image has no command to run' }],
      ['program exited with status 42', { kind: 'exit-status', status: 42, summary: 'the program exited with status 42' }],
      ['program /srv/app returned -1', { kind: 'exit-status', status: -1, summary: '/srv/app returned with status -1' }],
      ['program /srv/app returned 255', { kind: 'exit-status', status: 255, summary: '/srv/app returned with status 255' }],
      ['page fault outside application, addr: 0x0000000000000000', { kind: 'page-fault', summary: 'the guest hit a page fault' }],
      ['Assertion failed: px != 0 (/usr/include/boost/smart_ptr/intrusive_ptr.hpp: operator->: 199)', { kind: 'assertion', summary: 'an assertion failed in the guest' }],
      ["prog: prog.c:12: main: Assertion `argc > 1' failed.", { kind: 'assertion', summary: 'an assertion failed in the guest' }],
      ['Failed to parse command line.', { kind: 'bad-cmdline', summary: 'OSv could not parse its command line (a character it cannot take, or unbalanced quotes)' }],
      ['Unknown console: nope', { kind: 'bad-console', summary: 'OSv does not know the --console value' }],
      ['Aborted', { kind: 'abort', summary: 'the guest aborted' }],
      ['[backtrace]', { kind: 'abort', summary: 'the guest aborted' }],
      ['No bootable device.', { kind: 'not-bootable', summary: 'the disk is not bootable (no boot sector): boot the kernel directly' }],
      ['Boot failed: not a bootable disk', { kind: 'not-bootable', summary: 'the disk is not bootable (no boot sector): boot the kernel directly' }],
    ];
    for (const [line, finding] of cases) expect([line, findings(`${line}\r\n`)]).toEqual([line, [finding]]);
  });

  it('a program\'s line that only mentions a failure is not one: the rules are anchored at the start', () => {
    for (const line of [
      'log: Failed to load object: /x',
      'the program exited with status 3',
      'my program /x returned 2',
      'no page fault here',
      'test: Assertion failed: x',
      'echo Failed to parse command line.',
      'echo Unknown console',
      'echo [backtrace]',
      'Hint: No bootable device',
      'BIOS: Boot failed: x',
      'echo unrecognized option: x',
    ])
      expect([line, findings(`${line}\n`)]).toEqual([line, []]);
  });

  it('nor one that goes on after a failure line of fixed shape', () => {
    for (const line of ['Failed to parse command line. Retrying', '[backtrace] follows', "Assertion `x' failed. Ignored.", 'Failed to load object: /x. Powering off. (twice)'])
      expect([line, findings(`${line}\n`).map((f) => f.kind)]).toEqual([line, line.startsWith('Failed to load') ? ['load-failed'] : []]);
    // The load failure names the whole rest of the line then (nothing is dropped).
    expect(findings('Failed to load object: /x. Powering off. (twice)\n')[0]).toMatchObject({ object: '/x. Powering off. (twice)' });
  });

  it('an indented line is the program\'s: only the end of a line is trimmed', () => {
    const r = scanConsole('Cmdline: /x\n   Aborted\n  indented  \r\n', { expect: /^ {2}indented$/ });
    expect(r.failures).toEqual([]);
    expect(r.lastLine).toBe('  indented');
    expect(r.expectMatch).toEqual({ line: '  indented', lineNo: 3 });
  });

  it('the hypervisor\'s unterminated last stderr line is scanned at the end', () => {
    expect(findings('', 'qemu: KVM internal error. Suberror: 1')).toEqual([{ kind: 'kvm-error', summary: 'KVM could not run the guest (nested or software KVM?): use --accel tcg' }]);
  });
});

describe('console scanner: the program\'s status lines, output and events', () => {
  it('records each status line OSv prints, of any length, and nothing else', () => {
    const r = scanConsole(['Cmdline: /x', 'program exited with status 127', 'program /srv/app returned 255', 'the program exited with status 3', 'program exited with status 3 (twice)', 'xx program /a returned 2', 'program /a returned 2 xx', ''].join('\n'));
    expect(r.exitStatuses).toEqual([
      // OSv's debug lines are hidden from the user, and from the line count: both follow line 1.
      { status: 127, line: 'program exited with status 127', lineNo: 1 },
      { status: 255, line: 'program /srv/app returned 255', lineNo: 1 },
    ]);
  });

  it('libraries OSv could not load: the exact line only', () => {
    expect(scanConsole('could not load libgone.so\nxx could not load liba.so\ncould not load libb.so twice\n').unloadedLibraries).toEqual(['libgone.so']);
  });

  it('counts the program\'s non-blank lines after the command-line echo; a "Cmdline: " it prints is its own line', () => {
    const s = new ConsoleScanner({ expect: /^Cmdline: mine$/ });
    s.feed('SeaBIOS\r\nCmdline: /x\r\n\r\nhello\r\n\r\nrandom: device unblocked.\r\nCmdline: mine\r\n');
    s.end();
    expect(s.programLines).toBe(2);
    expect(s.result).toMatchObject({ programLines: 2, consoleLines: 6, expectMatch: { line: 'Cmdline: mine', lineNo: 6 }, lastLine: 'Cmdline: mine' });
  });

  it('the hypervisor\'s stderr is neither the last console line nor where the expected line is looked for', () => {
    const r = scanConsole('Cmdline: /x\nhi\n', { expect: /^ready$/ }, 'ready\n');
    expect(r.expectMatch).toBeUndefined();
    expect(r.lastLine).toBe('hi');
    expect(r.consoleLines).toBe(2);
  });

  it('feed() returns what each chunk revealed, in order', () => {
    const s = new ConsoleScanner({ expect: /^ready$/ });
    expect(s.feed('Cmdline: /x\nre')).toEqual([]);
    expect(s.feed('ady\nAborted\n')).toEqual([
      { type: 'expect', match: { line: 'ready', lineNo: 2 } },
      { type: 'failure', finding: { kind: 'abort', summary: 'the guest aborted', line: 'Aborted', lineNo: 3 } },
    ]);
    expect(s.end()).toEqual([]);
  });

  it('a line longer than the limit in one chunk is cut at the limit, and so is one that grows past it', () => {
    const s = new ConsoleScanner();
    s.feed(`${'x'.repeat(MAX_SCANNED_LINE + 100)}\n`);
    expect(s.result.lastLine).toBe('x'.repeat(MAX_SCANNED_LINE));
    s.feed('y'.repeat(MAX_SCANNED_LINE - 1));
    s.feed('zz\n');
    expect(s.result.lastLine).toBe(`${'y'.repeat(MAX_SCANNED_LINE - 1)}z`);
  });
});

describe('console scanner: the backtrace', () => {
  const frames = (...lines: string[]): string[] => scanConsole(['Cmdline: /x', ...lines, ''].join('\r\n')).backtrace;
  const frame = (addr: number, fn: string): string => `0x${addr.toString(16).padStart(16, '0')} <${fn}+${addr % 97}>`;

  it('is the frames of the first [backtrace] block, up to the first other line', () => {
    expect(frames('Aborted', '[backtrace]', frame(0x40221a03, 'abort'), '0x00000000402b499a <mmu::vm_fault(unsigned long, exception_frame*)+314>', 'after', frame(0x4030, 'late'))).toEqual(['abort', 'mmu::vm_fault(unsigned long, exception_frame*)']);
    expect(frames('[backtrace]', frame(1, 'a'), '[backtrace]', frame(2, 'b'))).toEqual(['a']);
    expect(frames('[backtrace]', frame(1, 'a'), `x ${frame(2, 'b')}`, frame(3, 'c'))).toEqual(['a']);
    expect(frames('[backtrace]', frame(1, 'a'), `${frame(2, 'b')} x`, frame(3, 'c'))).toEqual(['a']);
  });

  it('a line shaped like a frame outside a [backtrace] block is not one, even the first on the console', () => {
    expect(scanConsole(`${frame(1, 'main')}\nhello\n`).backtrace).toEqual([]);
    expect(frames(frame(1, 'main'), 'hello')).toEqual([]);
  });

  it('keeps at most 32 frames', () => {
    const many = Array.from({ length: 40 }, (_, i) => frame(0x40000000 + i, `f${i}`));
    expect(frames('[backtrace]', ...many)).toEqual(Array.from({ length: 32 }, (_, i) => `f${i}`));
  });
});

describe('console scanner cost: linear time, bounded memory, whatever the guest prints', () => {
  // Measured before the fix: 4 MB without a newline took 105 s under `osv test`, and 16 MB never
  // finished (the partial line was re-joined and re-split on every chunk).
  const MB = 2 ** 20;
  const feedAll = (make: (i: number) => Buffer, chunks: number): { ms: number; growth: number; s: ConsoleScanner } => {
    const s = new ConsoleScanner({ expect: /^never$/ });
    const heap = process.memoryUsage().heapUsed;
    const t = performance.now();
    let growth = 0;
    for (let i = 0; i < chunks; i++) {
      s.feed(make(i));
      if (i % 64 === 0) growth = Math.max(growth, process.memoryUsage().heapUsed - heap);
      if (performance.now() - t > 10_000) break; // quadratic: fail below instead of hanging the suite
    }
    s.end();
    return { ms: performance.now() - t, growth, s };
  };

  it('16 MB without a newline, in 4 KiB chunks as QEMU writes them', () => {
    const chunk = Buffer.alloc(4096, 'x');
    const { ms, growth, s } = feedAll(() => chunk, (16 * MB) / 4096);
    expect(ms).toBeLessThan(3000);
    expect(growth).toBeLessThan(64 * MB);
    expect(s.result.lastLine).toHaveLength(MAX_SCANNED_LINE);
  });

  it('a progress bar: 16 MB of carriage returns and no newline', () => {
    const chunk = Buffer.from('\r[#####     ] 50%'.repeat(256));
    const { ms, growth } = feedAll(() => chunk, (16 * MB) / chunk.length);
    expect(ms).toBeLessThan(3000);
    expect(growth).toBeLessThan(64 * MB);
  });

  it('lines built to make the rules backtrack (escape openers, assertion openers) stay linear', () => {
    const osc = Buffer.from(`${'\x1b]'.repeat(2000)}\n`);
    const assertion = Buffer.from(`${'Assertion `'.repeat(370)}\n`);
    for (const line of [osc, assertion]) {
      const { ms } = feedAll(() => line, (4 * MB) / line.length);
      expect(ms).toBeLessThan(3000);
    }
  });

  it('a failure line after a megabyte-long line is still found, with its line number', () => {
    const s = new ConsoleScanner();
    s.feed(Buffer.alloc(MB, 'y'));
    s.feed('\nAborted\n');
    s.end();
    expect(s.result.failures).toMatchObject([{ kind: 'abort', lineNo: 2 }]);
  });
});

describe('verdict', () => {
  // A guest whose debug log was on (--verbose): OSv reports a status, or none when main returned 0.
  const verbose = (lines: string[], opts = {}): ReturnType<typeof scanConsole> =>
    scanConsole(['VFS: mounting rofs at /rofs', 'Cmdline: /hello', ...lines, 'VFS: unmounting /dev', 'Powering off.', ''].join('\r\n'), opts);
  const empty = verbose(['Hello']);

  it('passes a --verbose guest that powered off by itself with no status line: main returned 0', () => {
    const v = verdict(empty, qemuExit(0));
    expect(v).toMatchObject({ ok: true, exitCode: 0, reason: 'the program exited with status 0', status: { known: true, status: 0 } });
    expect(programExitCode(v)).toBe(0);
  });

  it('takes the status from OSv\'s line: exit(N) and a nonzero return from main', () => {
    for (const [line, status] of [['program exited with status 3', 3], ['program /hello returned 2', 2], ['program exited with status 0', 0]] as const) {
      const v = verdict(verbose(['Hello', line]), qemuExit(0));
      expect(v.status).toEqual({ known: true, status, evidence: line });
      expect(v.ok).toBe(status === 0);
      expect(programExitCode(v)).toBe(status);
      if (status !== 0) expect(v).toMatchObject({ code: 'exit-status', exitCode: 4, reason: `${line === 'program /hello returned 2' ? '/hello returned' : 'the program exited'} with status ${status}: console line 2: ${JSON.stringify(line)}` });
    }
    // A shell's view of a negative status.
    expect(programExitCode(verdict(verbose(['program exited with status -1']), qemuExit(0)))).toBe(255);
  });

  it('never reports a status OSv did not print as 0', () => {
    // No --verbose: nothing tells main's return from a lost exit(3).
    const quiet = verdict(scanConsole('Cmdline: /hello\r\nHello\r\n'), qemuExit(0));
    expect(quiet).toMatchObject({ ok: false, code: 'status-unknown', exitCode: 4, status: { known: false } });
    expect(!quiet.ok && quiet.reason).toContain('lacks --verbose');
    expect(programExitCode(quiet)).toBe(126);
    // A hang stopped by the timeout.
    const hung = verdict(verbose(['waiting']), qemuExit(null, { signal: 'SIGTERM', stoppedBy: 'timeout', timeoutMs: 60000, defaultTimeout: true }));
    expect(hung).toMatchObject({ ok: false, code: 'timeout', status: { known: false, why: 'the run was stopped by the timeout before the program ended' } });
    expect(!hung.ok && hung.reason).toMatch(/^timed out after 60 s \(osv test's default timeout\)/);
    expect(programExitCode(hung)).toBe(126);
  });

  it('QEMU ending without an exit code (killed by a signal we did not send) is a failure, whatever the console showed', () => {
    for (const signal of ['SIGKILL', 'SIGTERM', 'SIGSEGV'] as const) {
      const v = verdict(empty, qemuExit(null, { signal }));
      expect(v).toMatchObject({ ok: false, code: 'hypervisor-failed', exitCode: 4, status: { known: false } });
      expect(!v.ok && v.reason).toBe(`QEMU was killed by ${signal}`);
      expect(programExitCode(v)).toBe(125);
    }
    // Even after the program's status line: the run did not end as OSv ends it.
    const late = verdict(verbose(['program exited with status 0']), qemuExit(null, { signal: 'SIGKILL' }));
    expect(late).toMatchObject({ ok: false, code: 'hypervisor-failed' });
  });

  it('OSv unable to load the program exits 127 outside CI; other failure lines 126', () => {
    expect(programExitCode(verdict(scanConsole('Cmdline: /x\nFailed to load object: /x. Powering off.\n'), qemuExit(0)))).toBe(127);
    expect(programExitCode(verdict(scanConsole('Cmdline: /x\nAborted\n'), qemuExit(0)))).toBe(126);
    expect(programExitCode(verdict(scanConsole('Failed to parse command line.\n'), qemuExit(0)))).toBe(126);
  });

  it('interrupt wins and exits 130', () => {
    const v = verdict(empty, qemuExit(0, { stoppedBy: 'interrupt' }));
    expect(v).toMatchObject({ ok: false, exitCode: 130, code: 'interrupted' });
    expect(programExitCode(v)).toBe(130);
  });

  it('a timeout quotes the last console line that is not OSv\'s debug log', () => {
    const v = verdict(verbose(['listening', 'random: device unblocked.'], { expect: /^ready$/ }), qemuExit(null, { signal: 'SIGTERM', stoppedBy: 'timeout', timeoutMs: 2500 }));
    expect(v).toMatchObject({ ok: false, code: 'timeout', exitCode: 4 });
    expect(!v.ok && v.reason).toBe('timed out after 2.5 s before /^ready$/ appeared; last console line: "listening"');
  });

  it('a QEMU error is quoted, and a busy forwarded port is named', () => {
    const v = verdict(empty, qemuExit(1, { stderr: "qemu-system-x86_64: -netdev user,id=un0,hostfwd=tcp:127.0.0.1:8080-:80: Could not set up host forwarding rule 'tcp:127.0.0.1:8080-:80'\n" }));
    expect(v).toMatchObject({ ok: false, code: 'hypervisor-failed' });
    expect(!v.ok && v.reason).toMatch(/^host port 8080\/tcp on 127\.0\.0\.1 is already in use/);
    const w = verdict(empty, qemuExit(1, { stderr: "qemu-system-x86_64: warning: host doesn't support requested feature\nqemu: could not open kernel file '/k': No such file or directory\n" }));
    expect(w.ok).toBe(false);
    expect(!w.ok && w.reason).toBe('QEMU exited with status 1: "could not open kernel file \'/k\': No such file or directory"');
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
    expect(!v.ok && v.hint).toContain('image: {mounts: {/proc: false}}');
    // Another assertion gets no such hint.
    const other = verdict(scanConsole(text.replace('mmu::procfs_maps[abi:cxx11]()', 'elf::object::relocate()')), qemuExit(0));
    expect(other).toMatchObject({ ok: false, code: 'guest-failure', finding: { kind: 'assertion' } });
    expect(!other.ok && other.hint).toBeUndefined();
  });

  it('a guest stopped once its expected line appeared passes', () => {
    const r = scanConsole('Cmdline: /srv\nServing HTTP on 0.0.0.0\n', { expect: /Serving HTTP/ });
    const v = verdict(r, qemuExit(null, { signal: 'SIGTERM', stoppedBy: 'expect' }));
    expect(v).toMatchObject({ ok: true });
    expect(programExitCode(v)).toBe(0);
  });
});
