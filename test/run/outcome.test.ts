// The end of a run: the verdict becomes the exit code and at most one line, under the two
// contracts (CI: 0/4/130; otherwise the program's status, or 125/126/127, like docker run).

import { describe, expect, it } from 'vitest';
import { OsvError } from '../../src/diagnostics/error.js';
import { exitStatusOf, runOutcome } from '../../src/run/outcome.js';
import { scanConsole } from '../../src/run/scanner.js';
import { verdict, type HypervisorExit } from '../../src/run/verdict.js';

const qemuExit = (exitCode: number | null, more: Partial<HypervisorExit> = {}): HypervisorExit => ({ hypervisor: 'qemu', exitCode, signal: null, stderr: '', ...more });
const verbose = (...lines: string[]): string => ['VFS: mounting rofs at /rofs', 'Cmdline: /p', ...lines, 'Powering off.', ''].join('\n');

/** runOutcome's exit code, what it wrote, and what it threw. */
function outcome(text: string, exit: HypervisorExit, opts: { ci: boolean; json?: boolean }, scanOpts = {}): { code?: number; said: string; thrown?: OsvError } {
  let said = '';
  const v = verdict(scanConsole(text, scanOpts), exit);
  try {
    const code = runOutcome(v, { ci: opts.ci, json: opts.json ?? false, stderr: { write: (s: string) => (said += s) } });
    return { code, said };
  } catch (e) {
    if (!(e instanceof OsvError)) throw e;
    return { said, thrown: e };
  }
}

describe('run outcome', () => {
  it('status 0: exit 0; CI says it passed, a plain run says nothing', () => {
    expect(outcome(verbose('hi'), qemuExit(0), { ci: false })).toEqual({ code: 0, said: '' });
    expect(outcome(verbose('hi'), qemuExit(0), { ci: true })).toEqual({ code: 0, said: 'osv: passed: the program exited with status 0\n' });
  });

  it('a nonzero status is the exit code with one plain line; CI fails with 4 and the reason', () => {
    expect(outcome(verbose('program exited with status 3'), qemuExit(0), { ci: false })).toEqual({ code: 3, said: 'osv: the program exited with status 3\n' });
    const ci = outcome(verbose('program exited with status 3'), qemuExit(0), { ci: true });
    expect(ci.said).toBe('');
    expect(ci.thrown).toMatchObject({ code: 'run.exit-status', exitCode: 4, message: 'the program exited with status 3: console line 1: "program exited with status 3"' });
  });

  it('failures without a status throw with 126, 127 or 125 outside CI, 4 in CI', () => {
    expect(outcome(verbose('Aborted'), qemuExit(0), { ci: false }).thrown).toMatchObject({ code: 'run.guest-failure', exitCode: 126 });
    expect(outcome('Cmdline: /x\nFailed to load object: /x. Powering off.\n', qemuExit(0), { ci: false }).thrown).toMatchObject({ exitCode: 127 });
    expect(outcome(verbose('hi'), qemuExit(null, { signal: 'SIGKILL' }), { ci: false }).thrown).toMatchObject({ code: 'run.hypervisor-failed', exitCode: 125 });
    expect(outcome(verbose('Aborted'), qemuExit(0), { ci: true }).thrown).toMatchObject({ exitCode: 4 });
    const unknown = outcome('Cmdline: /p\nhi\n', qemuExit(0), { ci: false }).thrown;
    expect(unknown).toMatchObject({ code: 'run.status-unknown', exitCode: 126 });
    expect(unknown?.hint).toContain('--verbose');
  });

  it('interrupted: 130 under both contracts, one line', () => {
    for (const ci of [false, true]) expect(outcome(verbose('hi'), qemuExit(0, { stoppedBy: 'interrupt' }), { ci })).toEqual({ code: 130, said: 'osv: interrupted\n' });
  });

  it('--json: nothing written and nothing thrown; the code alone', () => {
    expect(outcome(verbose('Aborted'), qemuExit(0), { ci: false, json: true })).toEqual({ code: 126, said: '' });
    expect(outcome(verbose('program exited with status 3'), qemuExit(0), { ci: true, json: true })).toEqual({ code: 4, said: '' });
    expect(outcome(verbose('hi'), qemuExit(0), { ci: true, json: true })).toEqual({ code: 0, said: '' });
  });

  it('a server stopped once its line appeared exits 0', () => {
    expect(outcome('Cmdline: /srv\nready\n', qemuExit(null, { signal: 'SIGTERM', stoppedBy: 'expect' }), { ci: false }, { expect: /ready/ })).toEqual({ code: 0, said: '' });
  });

  it('exitStatusOf: the status, or null when OSv did not report one', () => {
    expect(exitStatusOf(verdict(scanConsole(verbose('program /p returned 2')), qemuExit(0)))).toBe(2);
    expect(exitStatusOf(verdict(scanConsole('Cmdline: /p\n'), qemuExit(0)))).toBeNull();
  });
});
