import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accelCacheFile, classifyKvmProbe, decideAccel, probeArgs, probeKvm, PROBE_SUCCESS_STATUS, x86ProbeRom } from '../../src/run/accel.js';
import { which } from '../../src/run/binaries.js';
import { tempDir } from './helpers/fake-guest.js';

const out = (exitCode: number | null, stderr = '', more: { signal?: string; timedOut?: boolean } = {}) => ({ exitCode, stderr, signal: more.signal ?? null, timedOut: more.timedOut ?? false });

describe('classifyKvmProbe: what QEMU says about KVM', () => {
  it('the probe guest reached its exit port: usable', () => {
    expect(classifyKvmProbe(out(PROBE_SUCCESS_STATUS))).toEqual({ usable: true });
  });

  it('software/nested KVM rejecting -cpu host (facts §13: failed to set MSR 0x10a)', () => {
    const stderr =
      'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x20000000c\n' +
      'qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3226: kvm_buf_set_msrs: Assertion `ret == cpu->kvm_msr_buf->nmsrs\' failed.\n';
    const p = classifyKvmProbe(out(null, stderr, { signal: 'SIGABRT' }));
    expect(p).toEqual({ usable: false, reason: 'KVM rejects `-cpu host` (nested or software KVM): error: failed to set MSR 0x10a to 0x20000000c' });
  });

  it('KVM internal error / emulation failure (the emulator has no SSE)', () => {
    const stderr = 'KVM internal error. Suberror: 1\nextra data[0]: 0x0000000000000000\nemulation failure\nEAX=00000000 EBX=00000000\n';
    const p = classifyKvmProbe(out(null, stderr, { timedOut: true }));
    expect(p).toMatchObject({ usable: false, reason: 'KVM cannot emulate the guest (nested or software KVM): KVM internal error. Suberror: 1' });
  });

  it('no KVM module', () => {
    const stderr = 'Could not access KVM kernel module: No such file or directory\nqemu-system-x86_64: -accel kvm: failed to initialize kvm: No such file or directory\n';
    expect(classifyKvmProbe(out(1, stderr))).toEqual({ usable: false, reason: 'QEMU cannot open KVM: Could not access KVM kernel module: No such file or directory' });
  });

  it('a hang, or an unexpected exit', () => {
    expect(classifyKvmProbe(out(null, '', { signal: 'SIGKILL', timedOut: true }))).toEqual({ usable: false, reason: 'a test guest under KVM did not finish (it hangs)' });
    expect(classifyKvmProbe(out(0, ''))).toEqual({ usable: false, reason: 'a test guest under KVM exited with status 0' });
    expect(classifyKvmProbe(out(1, 'qemu-system-x86_64: something else\n'))).toEqual({ usable: false, reason: 'a test guest under KVM exited with status 1: something else' });
  });

  it('aarch64: the probe kernel powers off through PSCI, QEMU exits 0', () => {
    expect(classifyKvmProbe(out(0), 'aarch64')).toEqual({ usable: true });
  });
});

const qemu = which('qemu-system-x86_64');
if (!qemu) console.warn('skipped: real-QEMU acceleration tests need qemu-system-x86_64');

describe.skipIf(!qemu)('acceleration on this machine, with the real QEMU', () => {
  it('the probe guest itself works: under TCG it executes SSE and exits through the debug port', () => {
    const dir = tempDir();
    const rom = join(dir, 'probe.rom');
    writeFileSync(rom, x86ProbeRom());
    const r = spawnSync(qemu!, probeArgs('x86_64', rom, 'tcg'), { timeout: 10_000 });
    expect(r.status).toBe(PROBE_SUCCESS_STATUS);
    // Without SSE (a 486) the same guest never reaches the port: the probe really tests SSE.
    const r486 = spawnSync(qemu!, [...probeArgs('x86_64', rom, 'tcg').map((a) => (a === 'max' ? '486' : a))], { timeout: 1500 });
    expect(r486.status).not.toBe(PROBE_SUCCESS_STATUS);
  });

  it('probeKvm with the real QEMU under TCG says usable (the plumbing), and under KVM here says why not', async () => {
    expect(await probeKvm(qemu!, 'x86_64', 10_000, 'tcg')).toEqual({ usable: true });
    if (!existsSync('/dev/kvm')) {
      const p = await probeKvm(qemu!, 'x86_64', 10_000, 'kvm');
      expect(p.usable).toBe(false);
      if (!p.usable) expect(p.reason).toMatch(/^QEMU cannot open KVM: /);
    }
  });

  it('auto concludes TCG here, says why in one line, and caches the probe verdict', async () => {
    const cacheFile = join(tempDir(), 'accel.json');
    const auto = await decideAccel('auto', { qemu: qemu!, arch: 'x86_64', cacheFile });
    expect(auto.ok).toBe(true);
    if (!auto.ok) return;
    expect(auto.value.accel).toBe('tcg');
    expect(auto.value.note).toMatch(/^KVM is not usable here: .+; using TCG software emulation \(slower\)$/);
    expect(auto.value.note).not.toMatch(/\n/);

    // When /dev/kvm is present but unusable (this machine's kind) the probe runs the real QEMU.
    // Pointing the device check at a file we can open forces that path here.
    const probed = await decideAccel('auto', { qemu: qemu!, arch: 'x86_64', cacheFile, kvmDevice: '/dev/null' });
    expect(probed.ok && probed.value).toMatchObject({ accel: 'tcg', how: existsSync('/dev/kvm') ? expect.any(String) : 'probe' });
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { entries: Record<string, { usable: boolean }> };
    const keys = Object.keys(cached.entries);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^kernel=\S+ cpu=.+ qemu=\/.+@\d+:\d+ arch=x86_64$/);
    expect(cached.entries[keys[0]!]!.usable).toBe(false);

    const t0 = performance.now();
    const again = await decideAccel('auto', { qemu: qemu!, arch: 'x86_64', cacheFile, kvmDevice: '/dev/null' });
    const ms = performance.now() - t0;
    expect(again.ok && again.value.how).toBe('cache');
    expect(ms).toBeLessThan(50);
  });

  it('kvm fails with a clear message; tcg is taken as asked', async () => {
    const cacheFile = join(tempDir(), 'accel.json');
    const kvm = await decideAccel('kvm', { qemu: qemu!, arch: 'x86_64', cacheFile });
    expect(kvm.ok).toBe(false);
    if (!kvm.ok) {
      expect(kvm.error.code).toBe('run.kvm-unusable');
      expect(kvm.error.message).toMatch(/^KVM was requested but cannot run OSv here: /);
      expect(kvm.error.hint).toContain('--accel tcg');
    }
    expect(await decideAccel('tcg', { qemu: qemu!, arch: 'x86_64', cacheFile })).toEqual({ ok: true, value: { accel: 'tcg', how: 'requested' } });
  });

  it('the decision logic with a stand-in probe: usable KVM is used, a foreign arch never probes', async () => {
    const cacheFile = join(tempDir(), 'accel.json');
    let calls = 0;
    const probe = async () => {
      calls++;
      return { usable: true as const };
    };
    const yes = await decideAccel('auto', { qemu: qemu!, arch: 'x86_64', cacheFile, kvmDevice: '/dev/null', probe });
    expect(yes.ok && yes.value).toEqual({ accel: 'kvm', how: 'probe' });
    const foreign = await decideAccel('auto', { qemu: qemu!, arch: 'aarch64', cacheFile, kvmDevice: '/dev/null', probe });
    expect(foreign.ok && foreign.value.accel).toBe('tcg');
    expect(foreign.ok && foreign.value.note).toContain('cannot run an aarch64 guest');
    expect(calls).toBe(1);
    const refreshed = await decideAccel('auto', { qemu: qemu!, arch: 'x86_64', cacheFile, kvmDevice: '/dev/null', probe, refresh: true });
    expect(refreshed.ok && refreshed.value.how).toBe('probe');
    expect(calls).toBe(2);
  });

  it('the cache lives under $XDG_CACHE_HOME/osv-up/', () => {
    expect(accelCacheFile({ XDG_CACHE_HOME: '/c' })).toBe('/c/osv-up/accel.json');
    expect(accelCacheFile({ HOME: '/h' }).endsWith('/.cache/osv-up/accel.json')).toBe(true);
  });
});
