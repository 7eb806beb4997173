// The console the user sees: OSv's --verbose debug lines hidden (shown with --kernel-log), the
// program's output untouched, CR LF turned into LF for pipes; fed whole or byte by byte alike.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConsoleView, type ConsoleViewOptions } from '../../src/run/console-view.js';
import { isKernelLogLine, mayBeKernelLogLine } from '../../src/run/kernel-log.js';

const FIXTURES = '/work/shared/fixtures/console';
const TRANSCRIPTS = join(import.meta.dirname, 'transcripts');

/** Everything the view passes on for `input`, fed in chunks of `size` bytes (0: whole). */
function view(input: string | Buffer, opts: ConsoleViewOptions = {}, size = 0): string {
  const v = new ConsoleView(opts);
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const out: Buffer[] = [];
  const step = size || bytes.length || 1;
  for (let i = 0; i < bytes.length; i += step) out.push(v.write(bytes.subarray(i, i + step)));
  out.push(v.flush());
  return Buffer.concat(out).toString('latin1');
}

// One line of each kind OSv prints with --verbose, exactly as a recorded console shows it, and
// how each ends: `free` when the rest of the line is free text (a prefix decides), `exact`
// when the whole line has a fixed shape (anything after it makes it the program's line).
const REAL_KERNEL_LINES: Array<{ line: string; end: 'free' | 'exact' }> = [
  { line: '2 CPUs detected', end: 'exact' },
  { line: 'Firmware vendor: SeaBIOS', end: 'free' },
  { line: 'NUMA: no SRAT, assuming a single flat node', end: 'free' },
  { line: 'bsd: initializing - done', end: 'exact' },
  { line: 'net: initializing - done', end: 'exact' },
  { line: 'VFS: mounting ramfs at /', end: 'exact' },
  { line: 'VFS: mounting devfs at /dev', end: 'exact' },
  { line: 'VFS: unmounting /dev', end: 'exact' },
  { line: 'VFS: initialized filesystem library: /usr/lib/fs/libext.so', end: 'exact' },
  { line: 'devfs: created device vblk0.1 for a partition at offset:512 with size:172032', end: 'free' },
  { line: 'virtio-blk: Add blk device instances 0 as vblk0, devsize=172544', end: 'free' },
  { line: 'random: virtio-rng registered as a source.', end: 'free' },
  { line: 'random: device unblocked.', end: 'free' },
  { line: '[ext4] Mounted ext with i-node size:256 and block size:4096 on device: [vblk2]', end: 'free' },
  { line: '[ext4] Unmounted ext filesystem!', end: 'exact' },
  { line: 'eth0: ethernet address: 52:54:00:12:34:56', end: 'exact' },
  { line: '[I/22 dhcp]: Waiting for IP...', end: 'free' },
  { line: '[I/30 dhcp]: Configuring eth0: ip 192.168.122.15 subnet mask 255.255.255.0 gateway 192.168.122.1 MTU 1500', end: 'free' },
  { line: '/usr/lib/jvm/java/lib/libnio.so: ignoring missing symbol fgetxattr', end: 'exact' },
  { line: 'program exited with status 3', end: 'exact' },
  { line: 'program /prog returned 2', end: 'exact' },
  { line: 'ROFS: hit ratio is 93.10%', end: 'free' },
  { line: 'Powering off.', end: 'exact' },
];

// Lines of the same formats (OSv's printf formats) with a count or status of more than one
// digit, which no recording happens to show.
const FORMAT_KERNEL_LINES = ['1 CPUs detected', '12 CPUs detected', 'eth10: ethernet address: 52:54:00:12:34:57', 'program exited with status 127', 'program exited with status -1', 'program /srv/app returned 255', '[I/118 dhcp]: Waiting for IP...'];

describe('kernel log rules, line by line', () => {
  const recorded = new Set<string>();
  for (const dir of [FIXTURES, TRANSCRIPTS].filter((d) => existsSync(d)))
    for (const f of readdirTxt(dir)) for (const l of readFileSync(join(dir, f), 'latin1').split('\n')) recorded.add(l.replace(/\r$/, ''));

  it('every line of the table is one a recorded console shows', () => {
    expect(REAL_KERNEL_LINES.filter(({ line }) => !recorded.has(line))).toEqual([]);
  });

  it('recognises each of them, and the same formats with longer numbers', () => {
    for (const line of [...REAL_KERNEL_LINES.map((r) => r.line), ...FORMAT_KERNEL_LINES]) expect([line, isKernelLogLine(line)]).toEqual([line, true]);
  });

  it('a program\'s line that only contains a kernel line stays visible: the rules are anchored at the start', () => {
    for (const { line } of REAL_KERNEL_LINES) {
      for (const printed of [`xx ${line}`, ` ${line}`, `echo: ${line}`]) expect([printed, isKernelLogLine(printed)]).toEqual([printed, false]);
    }
  });

  it('a line of fixed shape followed by more text is the program\'s; free text may go on', () => {
    for (const { line, end } of REAL_KERNEL_LINES) {
      const longer = `${line} xx`;
      expect([longer, isKernelLogLine(longer)]).toEqual([longer, end === 'free']);
    }
  });

  it('near misses of the fixed shapes stay visible', () => {
    for (const line of [
      'Hello from C code',
      '42',
      '/tmp/x: not found',
      '2 CPU detected',
      'two CPUs detected',
      'VFS: mounting',
      'VFS: mounting rofs at',
      'VFS: mounting my disk at /x',
      'VFS: initialized filesystem library: /usr/lib/x.so',
      'VFS: initialized filesystem library: /usr/lib/fs/libext.so.1',
      '[ext4] Unmounted ext filesystem',
      '[ext4] something else',
      'eth0: ethernet address: 52:54:00:12:34:5G',
      'eth: ethernet address: 52:54:00:12:34:56',
      '[I/dhcp]: Waiting for IP...',
      'usr/lib/x.so: ignoring missing symbol f',
      '/usr/lib/x.so: ignoring missing symbol',
      '/usr/lib/x.so: ignoring missing symbol f g',
      'program exited',
      'program exited with status three',
      'program exited with status 3.',
      'program returned 2',
      'program /prog returned',
      'bsd: initializing',
      'net: initializing - failed',
      'Powering off now',
      'Powering off',
      'Firmware vendor SeaBIOS',
      'NUMA no SRAT',
      'devfs: removed device vblk0.1',
      'virtio-blk: removed',
      'random thoughts',
      'ROFS stats',
    ])
      expect([line, isKernelLogLine(line)]).toEqual([line, false]);
  });

  it('every beginning of every kernel line is held back until its line is complete', () => {
    for (const line of [...REAL_KERNEL_LINES.map((r) => r.line), ...FORMAT_KERNEL_LINES])
      for (let n = 1; n <= line.length; n++) expect([line.slice(0, n), mayBeKernelLogLine(line.slice(0, n))]).toEqual([line.slice(0, n), true]);
  });

  it('a beginning that cannot become one is passed on at once', () => {
    for (const partial of ['Hello', '>>> ', '12 apples', '12 CPUs found', '/tmp/my file', '/usr/lib/x.so: not found', '/usr/lib/x.so: ignoring this', 'Powering up', 'VFS mounting'])
      expect([partial, mayBeKernelLogLine(partial)]).toEqual([partial, false]);
  });

  it('a beginning longer than 160 characters is decided: passed on', () => {
    const start = 'random: ';
    expect(mayBeKernelLogLine(start.padEnd(160, 'x'))).toBe(true);
    expect(mayBeKernelLogLine(start.padEnd(161, 'x'))).toBe(false);
  });
});

describe('console view', () => {
  const verbose = ['\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16)', 'OSv v0.57.0', '2 CPUs detected', 'VFS: mounting rofs at /rofs', 'Cmdline: /hello', 'random: device unblocked.', 'Hello from C code', 'program exited with status 3', 'VFS: unmounting /dev', 'Powering off.', ''].join('\r\n');

  it('shows the program and OSv\'s usual lines, not the debug log; reports the debug lines', () => {
    const seen: string[] = [];
    expect(view(verbose, { onKernelLine: (l) => seen.push(l) })).toBe('\x1b[0mSeaBIOS (version 1.16)\r\nOSv v0.57.0\r\nCmdline: /hello\r\nHello from C code\r\n');
    expect(seen).toEqual(['2 CPUs detected', 'VFS: mounting rofs at /rofs', 'random: device unblocked.', 'program exited with status 3', 'VFS: unmounting /dev', 'Powering off.']);
  });

  it('--kernel-log shows everything (minus the terminal resets)', () => {
    expect(view(verbose, { hideKernelLog: false })).toBe(verbose.replace('\x1bc\x1b[?7l\x1b[2J', ''));
  });

  it('turns CR LF into LF for a pipe, and keeps a lone CR (progress bars)', () => {
    expect(view('Cmdline: /x\r\n10%\r20%\r\n42\r\n', { plainNewlines: true })).toBe('Cmdline: /x\n10%\r20%\n42\n');
  });

  it('gives the same bytes whatever the chunking, UTF-8 included', () => {
    const text = Buffer.from(`${verbose}h\u00e9llo \u2603\r\nVFS: unmounting /\r\nno newline at the end`, 'utf8');
    for (const opts of [{}, { plainNewlines: true }, { hideKernelLog: false }]) {
      const whole = view(text, opts);
      for (const size of [1, 2, 3, 7, 64]) expect(view(text, opts, size)).toBe(whole);
    }
    expect(Buffer.from(view(text), 'latin1').toString('utf8')).toContain('h\u00e9llo \u2603\r\nno newline at the end');
  });

  it('passes a prompt on at once unless it could be a kernel line; release() lets a held one go', () => {
    const v = new ConsoleView();
    expect(v.write(Buffer.from('>>> ')).toString()).toBe('>>> ');
    expect(v.holding).toBe(false);
    expect(v.write(Buffer.from('\r\nrand')).toString()).toBe('\r\n');
    expect(v.holding).toBe(true);
    expect(v.release().toString()).toBe('rand');
    // The rest of a released line follows as it comes, even if it ends up looking like a kernel line.
    expect(v.write(Buffer.from('om: device unblocked.\r\n')).toString()).toBe('om: device unblocked.\r\n');
  });

  it('tells a held whole kernel line (only its newline missing) from a beginning that may become one', () => {
    const v = new ConsoleView();
    v.write(Buffer.from('VFS: mount'));
    expect(v.holding).toBe(true);
    expect(v.holdingKernelLine).toBe(false);
    v.write(Buffer.from('ing ramfs at /'));
    expect(v.holdingKernelLine).toBe(true);
    expect(v.write(Buffer.from('\r\nhi\r\n')).toString()).toBe('hi\r\n');
    expect(v.holding).toBe(false);
    expect(v.holdingKernelLine).toBe(false);
  });

  it('a held beginning never grows without bound', () => {
    const v = new ConsoleView();
    v.write(Buffer.from('random: '));
    expect(v.holding).toBe(true);
    expect(v.write(Buffer.alloc(100_000, 'x')).length).toBe(100_008);
    expect(v.holding).toBe(false);
  });
});

describe('console view: where a line is cut', () => {
  const w = (v: ConsoleView, s: string): string => v.write(Buffer.from(s, 'latin1')).toString('latin1');

  it('the rest of a released line is shown whatever it looks like, and the next line is judged again', () => {
    const v = new ConsoleView();
    expect(w(v, 'random: ')).toBe('');
    expect(v.release().toString()).toBe('random: ');
    expect(w(v, 'random: seeded\r\n')).toBe('random: seeded\r\n');
    expect(w(v, 'random: device unblocked.\r\n')).toBe('');
  });

  it('release() with nothing held changes nothing: the next kernel line is still hidden', () => {
    const v = new ConsoleView();
    expect(w(v, 'hi\r\n')).toBe('hi\r\n');
    expect(v.release().toString()).toBe('');
    expect(w(v, 'VFS: unmounting /dev\r\n')).toBe('');
  });

  it('after a prompt, the rest of its line is shown at once, even text shaped like a kernel line', () => {
    const v = new ConsoleView();
    expect(w(v, '>>> ')).toBe('>>> ');
    expect(w(v, 'rand')).toBe('rand');
    expect(v.holding).toBe(false);
    expect(w(v, 'om: x\r\nVFS: unmounting /dev\r\n')).toBe('om: x\r\n');
    expect(w(v, '>>> ')).toBe('>>> ');
    expect(w(v, 'VFS: unmounting /dev\r\n')).toBe('VFS: unmounting /dev\r\n');
  });

  it('a kernel line that ends the output without its newline is hidden (and reported) too', () => {
    const seen: string[] = [];
    expect(view('Hello\r\nPowering off.', { onKernelLine: (l) => seen.push(l) })).toBe('Hello\r\n');
    expect(seen).toEqual(['Powering off.']);
    expect(view('Hello\r\nPowering off.', { hideKernelLog: false })).toBe('Hello\r\nPowering off.');
  });

  it('a program\'s indented line shaped like a kernel line stays visible', () => {
    expect(view('  2 CPUs detected\r\n\tPowering off.\r\n')).toBe('  2 CPUs detected\r\n\tPowering off.\r\n');
  });

  it('for a pipe, a CR cut from its LF by a chunk boundary still makes one LF; a lone CR stays, at the end too', () => {
    const v = new ConsoleView({ plainNewlines: true });
    expect(w(v, 'x\r')).toBe('x');
    expect(w(v, '\ny\r')).toBe('\ny');
    expect(w(v, 'z\r\n')).toBe('\rz\n');
    expect(view('50%\r', { plainNewlines: true })).toBe('50%\r');
  });

  it('output that ends inside an escape sequence is passed on whole at the end', () => {
    expect(view('done\x1b[')).toBe('done\x1b[');
  });

  it('a beginning is held up to 512 bytes, escape sequences included (they do not count as text)', () => {
    const held = new ConsoleView();
    expect(w(held, `random: ${'\x1b[0m'.repeat(126)}`)).toBe('');
    expect(held.holding).toBe(true);
    const long = new ConsoleView();
    const text = `random: ${'\x1b[0m'.repeat(126)}x`;
    expect(w(long, text)).toBe(text);
    expect(long.holding).toBe(false);
  });
});

// Every real transcript: the program's lines survive, no debug line does.
describe('console view on real OSv transcripts', () => {
  const sources = [FIXTURES, TRANSCRIPTS].filter((d) => existsSync(d));
  if (!existsSync(FIXTURES)) console.warn(`skipped: console transcripts not found at ${FIXTURES}`);
  it.skipIf(!existsSync(FIXTURES))('verbose-python-exit3.txt shows only the lines a non-verbose boot shows', () => {
    const out = view(readFileSync(join(FIXTURES, 'verbose-python-exit3.txt')), { plainNewlines: true });
    expect(out.split('\n').filter((l) => l !== '')).toEqual(['\x1b[0mSeaBIOS (version 1.16.2-debian-1.16.2-1)', 'Booting from ROM..OSv v0.57.0-398-g0e34e4dc', 'Booted up in 0.00 ms', 'Cmdline: /usr/bin/python3 -c raise(SystemExit(3))']);
  });
  it('a --verbose boot looks exactly like the same boot without it (recorded pairs)', () => {
    for (const quiet of readdirTxt(TRANSCRIPTS).filter((f) => f.endsWith('.quiet.txt'))) {
      const loud = quiet.replace('.quiet', '');
      if (!existsSync(join(TRANSCRIPTS, loud))) continue;
      const lines = (f: string): string[] => view(readFileSync(join(TRANSCRIPTS, f)), { plainNewlines: true }).split('\n');
      expect([loud, lines(loud)]).toEqual([loud, lines(quiet)]);
    }
  });
  it.skipIf(sources.length === 0)('no line of any transcript is lost except recognised kernel lines', () => {
    let files = 0;
    for (const dir of sources) {
      for (const f of readdirTxt(dir)) {
        files++;
        const text = readFileSync(join(dir, f));
        const shown = new Set(view(text, { plainNewlines: true }).split('\n'));
        for (const raw of text.toString('latin1').split('\n')) {
          const line = raw.replace(/\r$/, '');
          if (line === '' || line.startsWith('\x1bc')) continue;
          expect([f, line, shown.has(line) || isKernelLogLine(line)]).toEqual([f, line, true]);
        }
      }
    }
    expect(files).toBeGreaterThan(0);
  });
});

function readdirTxt(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.txt'));
}
