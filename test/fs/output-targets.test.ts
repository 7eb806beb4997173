// Where osv writes a file it renames a new one over the destination, and a rename replaces
// whatever node is there: `osv build -o /dev/null`, run as root, replaced /dev/null with a
// regular file. A destination that is a device, a FIFO, a socket or a directory is refused,
// before any work, by every command that writes one; the node is left as it was.

import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkReplaceable, nodeInTheWay, writeFileAtomic } from '../../src/atomic.js';
import { lacks } from '../helpers/skip.js';
import { runOsv } from '../helpers/osv.js';

const work = mkdtempSync(join(tmpdir(), 'osv-output-targets-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const fifo = join(work, 'fifo');
const madeFifo = spawnSync('mkfifo', [fifo]).status === 0;
// A character device like /dev/null (1:3), made here so that nothing of the machine's is at stake.
const device = join(work, 'null');
const madeDevice = spawnSync('mknod', [device, 'c', '1', '3']).status === 0;

/** The nodes this machine lets the test make, with the kind the error names. */
const nodes = [...(madeFifo ? [[fifo, 'a FIFO (named pipe)', (p: string) => lstatSync(p).isFIFO()] as const] : []), ...(madeDevice ? [[device, 'a character device', (p: string) => lstatSync(p).isCharacterDevice()] as const] : [])];

describe('a destination that is not a regular file', () => {
  it('nodeInTheWay names what a rename would replace; nothing, a file or a symlink is fine', () => {
    writeFileSync(join(work, 'file'), 'x');
    expect(nodeInTheWay(join(work, 'file'))).toBeUndefined();
    expect(nodeInTheWay(join(work, 'missing'))).toBeUndefined();
    expect(nodeInTheWay(work)).toBe('a directory');
    for (const [path, kind] of nodes) expect(nodeInTheWay(path)).toBe(kind);
    expect(() => checkReplaceable(work)).toThrow(expect.objectContaining({ code: 'output.not-a-file', exitCode: 2 }));
  });

  it.skipIf(lacks('writing over a FIFO', [madeFifo, 'mkfifo failed here']))('writeFileAtomic refuses it and leaves it in place (every cache and record goes through it)', () => {
    expect(() => writeFileAtomic(fifo, 'data')).toThrow(expect.objectContaining({ code: 'output.not-a-file', message: expect.stringContaining(`${fifo} is a FIFO (named pipe)`) }));
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(work).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  describe.skipIf(lacks('osv commands writing over a device or a FIFO', [nodes.length > 0, 'neither mkfifo nor mknod worked here']))('osv commands', () => {
    const project = join(work, 'project');
    const cache = join(work, 'cache');
    const run = (args: string[]) => {
      const { OSV_KERNEL: _, ...env } = process.env;
      return runOsv(args, { cwd: project, env: { ...env, XDG_CACHE_HOME: cache, NO_COLOR: '1' }, timeout: 60_000 });
    };

    it.each([
      ['build -o', (p: string) => ['build', '-o', p]],
      ['manifest -o', (p: string) => ['manifest', '-o', p]],
      ['push oci-archive:', (p: string) => ['push', `oci-archive:${p}`]],
    ])('osv %s: a usage error before anything is built or written; the node stays', (_, args) => {
      rmSync(project, { recursive: true, force: true });
      spawnSync('mkdir', ['-p', project]);
      writeFileSync(join(project, 'osv.yaml'), 'cmd: [/bin/true]\n');
      for (const [path, kind, still] of nodes) {
        const r = run(args(path));
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`error: ${path} is ${kind}: osv-up writes a file only where there is none yet or a regular file`);
        expect(still(path)).toBe(true);
        expect(existsSync(`${path}.files`) || existsSync(`${path}.build.json`)).toBe(false);
        expect(existsSync(join(project, '.osv'))).toBe(false);
      }
    });

    it('osv push oci:FILE: the layout must be a directory, said before anything is built', () => {
      const r = run(['push', `oci:${join(project, 'osv.yaml')}`]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`error: ${join(project, 'osv.yaml')} is not a directory: oci:DIR writes an OCI image layout into a directory`);
      expect(existsSync(join(project, '.osv'))).toBe(false);
    });

    it('osv build -o with a name too long: a usage error naming it, not an internal error', () => {
      const long = join(work, `${'x'.repeat(300)}.img`);
      const r = run(['build', '-o', long]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`error: the image path ${long} has a name too long for the file system`);
    });

    it('osv init -c: a directory or a FIFO is refused, --force or not; a loop of links is replaced', () => {
      for (const [path, kind] of [[work, 'a directory'], ...nodes.map(([p, k]) => [p, k] as const)] as const) {
        const r = run(['init', '-f', '-c', path, '--', '/bin/true']);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`error: ${path} is ${kind}: osv-up writes a file only where there is none yet or a regular file`);
      }
      const loop = join(work, 'loop-a');
      symlinkSync(join(work, 'loop-b'), loop);
      symlinkSync(loop, join(work, 'loop-b'));
      const r = run(['init', '-f', '-c', loop, '--', '/bin/true']);
      expect(r.code, r.stderr).toBe(0);
      expect(lstatSync(loop).isFile()).toBe(true);
    });

    it('osv manifest -o "": a usage error, nothing written', () => {
      const r = run(['manifest', '-o', '']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('error: -o: an empty file name');
      expect(existsSync(`${project}.files`)).toBe(false);
    });
  });
});
