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

describe('kernel log lines', () => {
  it('recognises what OSv prints only with --verbose', () => {
    for (const line of [
      '2 CPUs detected',
      'VFS: mounting rofs at /rofs',
      'VFS: unmounting /dev',
      'VFS: initialized filesystem library: /usr/lib/fs/libext.so',
      'random: device unblocked.',
      'devfs: created device vblk0.1 for a partition at offset:4194304 with size:80349184',
      'virtio-blk: Add blk device instances 0 as vblk0, devsize=536870912',
      '/usr/lib/libselinux.so.1: ignoring missing symbol fts_set',
      'program exited with status 3',
      'program /hello returned 2',
      'ROFS: hit ratio is 88.89%',
      'Powering off.',
    ])
      expect([line, isKernelLogLine(line)]).toEqual([line, true]);
  });

  it('leaves a program\'s lines alone, even ones that look close', () => {
    for (const line of ['Hello from C code', '42', 'VFS: mounting', 'VFS: initialized filesystem library: /usr/lib/x.so', 'program exited', 'program exited with status three', 'Powering off now', '/tmp/x: not found', 'random thoughts'])
      expect([line, isKernelLogLine(line)]).toEqual([line, false]);
  });

  it('holds a line beginning only while it could still become a kernel line', () => {
    expect(mayBeKernelLogLine('VF')).toBe(true);
    expect(mayBeKernelLogLine('VFS: mount')).toBe(true);
    expect(mayBeKernelLogLine('2 CP')).toBe(true);
    expect(mayBeKernelLogLine('/usr/lib/x.so: ign')).toBe(true);
    expect(mayBeKernelLogLine('Hello')).toBe(false);
    expect(mayBeKernelLogLine('>>> ')).toBe(false);
    expect(mayBeKernelLogLine('2 apples')).toBe(false);
    expect(mayBeKernelLogLine('/usr/lib/x.so: not found')).toBe(false);
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
