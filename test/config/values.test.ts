// The value syntaxes of osv.yaml, parsed on their own.

import { describe, expect, it } from 'vitest';
import { normalizeGuestPath, parseDuration, parseMode, parsePort, parseSize, parseMemory, splitCommand } from '../../src/config/values.js';
import { didYouMean, editDistance } from '../../src/config/suggest.js';
import { readPlainScalar } from '../../src/config/interpolate.js';

const value = <T>(r: { ok: true; value: T } | { ok: false; message: string }): T | string => (r.ok ? r.value : `error: ${r.message}`);

describe('sizes', () => {
  it.each([
    ['512M', 512 * 2 ** 20],
    ['2G', 2 * 2 ** 30],
    ['2g', 2 * 2 ** 30],
    ['1.5G', 1.5 * 2 ** 30],
    ['64MiB', 64 * 2 ** 20],
    ['64MB', 64 * 2 ** 20],
    ['4096', 4096],
    ['4096B', 4096],
    ['1K', 1024],
    ['1T', 2 ** 40],
    [1048576, 1048576],
  ] as const)('%s', (input, bytes) => {
    expect(value(parseSize(input))).toBe(bytes);
  });

  it.each([
    ['12X', 'error: invalid size "12X": expected a number of bytes, or a number with a unit K, M, G or T (512M, 2G)'],
    ['1.3B', 'error: size "1.3B" is not a whole number of bytes'],
    ['0M', 'error: size "0M" must be greater than 0'],
    ['99999999T', 'error: size "99999999T" is too large'],
    [-1, 'error: invalid size -1: expected a whole number of bytes greater than 0'],
    [true, 'error: invalid size: expected a number of bytes or a string such as 512M'],
  ] as const)('rejects %s', (input, message) => {
    expect(value(parseSize(input))).toBe(message);
  });

  it('takes memory in whole MiB', () => {
    expect(value(parseMemory('1.5M'))).toBe('error: "1.5M" is not a whole number of MiB (1M = 1048576 bytes)');
    expect(value(parseMemory('16384K'))).toBe(16 * 2 ** 20);
    expect(value(parseMemory('1M'))).toBe('error: "1M" is less than the 16M a VM is given at least');
    expect(value(parseMemory(15 * 2 ** 20))).toBe('error: 15728640 is less than the 16M a VM is given at least');
  });
});

describe('ports', () => {
  it.each([
    ['8080:80', { host: 8080, guest: 80, protocol: 'tcp' }],
    ['5353:53/udp', { host: 5353, guest: 53, protocol: 'udp' }],
    ['80/tcp', { host: 80, guest: 80, protocol: 'tcp' }],
    ['127.0.0.1:8080:80', { host: 8080, guest: 80, protocol: 'tcp', hostAddress: '127.0.0.1' }],
    [22, { host: 22, guest: 22, protocol: 'tcp' }],
  ] as const)('%s', (input, expected) => {
    expect(value(parsePort(input))).toEqual(expected);
  });

  it.each([
    ['0:80', 'error: host port 0 in "0:80" is out of range 1-65535'],
    ['80:65536', 'error: guest port 65536 in "80:65536" is out of range 1-65535'],
    ['1.2.3.4:80', 'error: invalid port mapping "1.2.3.4:80": with an address, give both ports (ADDRESS:HOST:GUEST)'],
    ['1.2.3.256:80:80', 'error: invalid address 1.2.3.256 in "1.2.3.256:80:80": each part must be 0-255'],
    ['http', 'error: invalid port mapping "http": expected "HOST:GUEST", "HOST:GUEST/udp" or "ADDRESS:HOST:GUEST"'],
    [70000, 'error: port 70000 is out of range 1-65535'],
  ] as const)('rejects %s', (input, message) => {
    expect(value(parsePort(input))).toBe(message);
  });
});

describe('durations and modes', () => {
  it.each([
    [30, 30],
    ['30', 30],
    ['1.5s', 1.5],
    ['250ms', 0.25],
    ['2m', 120],
    ['1h', 3600],
  ] as const)('duration %s', (input, seconds) => {
    expect(value(parseDuration(input))).toBe(seconds);
  });

  it('rejects bad durations', () => {
    expect(value(parseDuration('0s'))).toBe('error: duration "0s" must be greater than 0');
    expect(value(parseDuration('soon'))).toBe('error: invalid duration "soon": expected seconds, or a number with a unit ms, s, m or h (30s, 2m)');
    // Node's timers hold at most 2^31 - 1 ms, and fire at once for more: 1000h timed out at once.
    expect(value(parseDuration('1000h'))).toBe('error: duration "1000h" is longer than osv can wait (at most 2147483 s, about 24.8 days)');
    expect(value(parseDuration(2147484))).toBe('error: duration 2147484 is longer than osv can wait (at most 2147483 s, about 24.8 days)');
    expect(value(parseDuration(2147483))).toBe(2147483);
    expect(value(parseDuration('0.0001'))).toBe('error: duration "0.0001" is shorter than a millisecond');
    expect(value(parseDuration('1ms'))).toBe(0.001);
  });

  it.each([
    ['0644', 0o644],
    ['755', 0o755],
    ['0o600', 0o600],
    ['4755', 0o4755],
  ] as const)('mode %s', (input, mode) => {
    expect(value(parseMode(input))).toBe(mode);
  });

  it('reads modes as octal only', () => {
    expect(value(parseMode('493'))).toBe('error: invalid mode "493": expected octal permission bits such as 0644 (one to four digits 0-7, optionally after 0o)');
    // Five digits: it said "digits 0-7", which 07777 is.
    expect(value(parseMode('07777'))).toBe('error: invalid mode "07777": expected octal permission bits such as 0644 (one to four digits 0-7, optionally after 0o)');
  });
});

describe('command strings', () => {
  it.each([
    ['/bin/echo hello', ['/bin/echo', 'hello']],
    ['  a\t b  ', ['a', 'b']],
    ['/bin/sh -c "echo \\"hi\\" $HOME"', ['/bin/sh', '-c', 'echo "hi" $HOME']],
    ["printf '%s\\n' x", ['printf', '%s\\n', 'x']],
    ['a\\ b c', ['a b', 'c']],
    ['""', ['']],
    ['x"y z"w', ['xy zw']],
  ] as const)('%s', (input, argv) => {
    expect(value(splitCommand(input))).toEqual(argv);
  });

  it.each([
    ['a "b', 'error: unterminated " quote in "a \\"b"'],
    ["a 'b", 'error: unterminated \' quote in "a \'b"'],
    ['a \\', 'error: trailing backslash in "a \\\\"'],
    ['   ', 'error: the command is empty'],
  ] as const)('rejects %s', (input, message) => {
    expect(value(splitCommand(input))).toBe(message);
  });
});

describe('guest paths', () => {
  it.each([
    ['/a/b/', '/a/b'],
    ['//a//./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/', '/'],
  ] as const)('%s', (input, normalized) => {
    expect(value(normalizeGuestPath(input))).toBe(normalized);
  });

  it.each([
    ['a', 'error: guest path "a" is not absolute: it must start with /'],
    ['/..', 'error: guest path "/.." escapes the image root with ".."'],
    ['/a/../../b', 'error: guest path "/a/../../b" escapes the image root with ".."'],
    ['/a\nb', 'error: guest path "/a\\nb" contains a line break'],
    [`/${'é'.repeat(128)}`, `error: guest path "/${'é'.repeat(128)}" has a name longer than 255 bytes`],
    // Written as U+FFFD, "/x/\ud800" and "/x/\ufffd" became one name twice: a corrupt image.
    ['/x/\ud800', 'error: guest path "/x/\\ud800" contains a lone UTF-16 surrogate, which is no character and has no UTF-8 form'],
    ['/x/\udc00y', 'error: guest path "/x/\\udc00y" contains a lone UTF-16 surrogate, which is no character and has no UTF-8 form'],
  ] as const)('rejects %j', (input, message) => {
    expect(value(normalizeGuestPath(input))).toBe(message);
  });

  it('accepts a surrogate pair (one character outside the BMP) and U+FFFD itself', () => {
    expect(value(normalizeGuestPath('/x/\ud83d\ude00'))).toBe('/x/😀');
    expect(value(normalizeGuestPath('/x/\ufffd'))).toBe('/x/\ufffd');
  });
});

describe('did you mean', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('nmae', 'name')).toBe(1);
    expect(editDistance('memroy', 'memory')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests only plausible typos', () => {
    const keys = ['name', 'cmd', 'env', 'files', 'libraries', 'run', 'runs'];
    expect(didYouMean('nmae', keys)).toBe('name');
    expect(didYouMean('librairies', keys)).toBe('libraries');
    expect(didYouMean('CMD', keys)).toBe('cmd');
    expect(didYouMean('frobnicate', keys)).toBeUndefined();
    expect(didYouMean('x', keys)).toBeUndefined();
    expect(didYouMean('librar', keys)).toBe('libraries');
    expect(didYouMean('libraryP', ['libraryPath', 'libraries'])).toBe('libraryPath');
    expect(didYouMean('ru', keys)).toBe('run');
    expect(didYouMean('zzz', keys)).toBeUndefined();
  });
});

describe('unquoted values after interpolation', () => {
  it.each([
    ['3', 3],
    ['-4', -4],
    ['1.5', 1.5],
    ['0o17', 15],
    ['0x1f', 31],
    ['true', true],
    ['False', false],
    ['null', null],
    ['~', null],
    ['', null],
    ['0755', 755],
    ['v1.2', 'v1.2'],
    ['12345678901234567890', '12345678901234567890'],
  ] as const)('%j', (text, v) => {
    expect(readPlainScalar(text)).toBe(v);
  });
});
