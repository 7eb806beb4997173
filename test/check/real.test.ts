// The check on real programs of this machine with their true closures. Against a real OSv
// kernel when OSV_KERNEL names one (a loader-stripped.elf or a directory holding it): ls must
// warn about the xattr family (OSv lacks those calls: section 13 of the image-format facts,
// "ls -l then fails on lgetxattr"), and sqlite3, python3 and node must have no errors.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPlan, noSymbolCache, type CheckReport } from '../../src/check/index.js';
import { sha256File } from '../../src/kernel/hash.js';
import type { KernelBundle } from '../../src/kernel/types.js';
import { plan } from '../../src/plan/index.js';
import { copy, makeConfig, type ConfigOver } from '../plan/helpers.js';
import { lacks } from '../helpers/skip.js';
import { debianPython } from '../helpers/tools.js';

function kernelFromEnv(): KernelBundle | undefined {
  const p = process.env['OSV_KERNEL'];
  if (!p || !existsSync(p)) return undefined;
  const elf = statSync(p).isDirectory() ? join(p, 'loader-stripped.elf') : p;
  if (!existsSync(elf)) return undefined;
  return { elf, sha256: sha256File(elf), origin: 'env', hiddenSymbols: false };
}

const kernel = kernelFromEnv();
const hasLs = existsSync('/usr/bin/ls');
if (!kernel) console.warn('skipped: the real-kernel checks need OSV_KERNEL (a loader-stripped.elf or an OSv build directory)');
if (!hasLs) console.warn('skipped: /usr/bin/ls is not on this machine');
for (const [path, what] of [['/usr/bin/sqlite3', 'sqlite3'], ['/usr/bin/node', 'node'], ['/usr/bin/python3', 'python3 (Debian, with its standard library)']] as const)
  if (kernel && (path === '/usr/bin/python3' ? !debianPython() : !existsSync(path))) console.warn(`skipped: the real-kernel check of ${what}: not installed`);

const checkOf = (over: ConfigOver, k: KernelBundle | undefined): CheckReport => {
  const p = plan(makeConfig(over), { env: {} });
  if (!p.ok) throw new Error(p.error.errors.map((e) => e.message).join('\n'));
  const r = checkPlan(p.value, k, undefined, { cache: noSymbolCache });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

const missingOf = (r: CheckReport, soname: string): string[] => r.perObject.find((o) => o.soname === soname)?.missing.map((m) => m.name) ?? [];

describe.skipIf(!hasLs)('ls without a kernel', () => {
  it('checks the libraries against each other and says the kernel was not checked', () => {
    const r = checkOf({ cmd: ['/usr/bin/ls', '-l', '/'] }, undefined);
    expect(r.ok).toBe(true);
    expect(r.kernel.checked).toBe(false);
    expect(r.warnings.map((w) => w.code)).toContain('check.no-kernel');
    expect(r.perObject.find((o) => o.soname === 'libselinux.so.1')).toMatchObject({ role: 'needed', chain: ['ls', 'libselinux.so.1'], missing: [] });
    expect(r.totals.unchecked).toBeGreaterThan(0);
  });
});

describe.skipIf(!kernel || !hasLs)('against the OSv kernel in OSV_KERNEL', () => {
  it('ls: warns about lgetxattr and the rest of the xattr family, no errors', () => {
    const r = checkOf({ cmd: ['/usr/bin/ls', '-l', '/'] }, kernel);
    expect(r.errors).toEqual([]);
    const selinux = missingOf(r, 'libselinux.so.1');
    expect(selinux).toEqual(expect.arrayContaining(['lgetxattr', 'getxattr', 'setxattr', 'lsetxattr', 'fgetxattr', 'fsetxattr', 'removexattr']));
    const w = r.warnings.find((x) => x.code === 'check.missing-function' && x.object === '/usr/lib/libselinux.so.1');
    expect(w?.message).toMatch(/^libselinux\.so\.1 \(ls -> libselinux\.so\.1\): \d+ functions OSv lacks, all via PLT \(fails only if called\): fgetxattr, /);
    expect(w?.symbols).toContain('lgetxattr');
    // The console line OSv prints maps back to the object and its chain.
    expect(r.symbolOwner('lgetxattr', '/usr/lib/libselinux.so.1')).toMatchObject({ object: '/usr/lib/libselinux.so.1', chain: ['ls', 'libselinux.so.1'], missing: { name: 'lgetxattr', bind: 'plt' } });
    expect(r.kernel).toMatchObject({ checked: true });
    expect(r.kernel.symbols).toBeGreaterThan(10_000);
  });

  it.skipIf(lacks('sqlite3 against the kernel', [existsSync('/usr/bin/sqlite3'), '/usr/bin/sqlite3 is not installed']))('sqlite3: no errors', () => {
    const r = checkOf({ cmd: ['/usr/bin/sqlite3', '--version'] }, kernel);
    expect(r.errors).toEqual([]);
  });

  const python = debianPython();
  it.skipIf(lacks('python3 against the kernel', [python, 'no Debian python3 with its standard library (/usr/bin/python3 -> python3.X, /usr/lib/python3.X/os.py)']))('python3 with its standard library: no errors, its missing functions summarized', () => {
    const r = checkOf({ cmd: ['/usr/bin/python3', '-c', 'print(1)'], files: [copy(python!.lib, python!.lib)] }, kernel);
    expect(r.errors).toEqual([]);
    const py = r.warnings.find((x) => x.code === 'check.missing-function' && x.object === '/usr/bin/python3');
    // About 50 functions, all through the PLT: one line naming a few, not a wall of text.
    expect(py?.message).toMatch(/^python3: \d+ functions OSv lacks, all via PLT \(fails only if called\): ([^,]+, ){7}[^,]+ \(\+\d+ more\)$/);
    expect(py?.symbols?.length).toBeGreaterThan(30);
  });

  it.skipIf(lacks('node against the kernel', [existsSync('/usr/bin/node'), '/usr/bin/node is not installed']))('node: no errors (_Unwind_Resume comes from the shipped libgcc_s.so.1)', () => {
    const r = checkOf({ cmd: ['/usr/bin/node', '-e', '1'] }, kernel);
    expect(r.errors).toEqual([]);
    // node needs _Unwind_Resume@GCC_3.0; the kernel does not export it, libgcc_s.so.1 does.
    expect(r.symbolOwner('_Unwind_Resume')).toMatchObject({ object: '/usr/bin/node' });
    expect(r.symbolOwner('_Unwind_Resume')?.missing).toBeUndefined();
    expect(r.perObject.map((o) => o.guest)).toContain('/usr/lib/libgcc_s.so.1');
  });
});
