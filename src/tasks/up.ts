// `osv up` (and `osv test`, which is `osv up --ci`): validate, plan, build incrementally, boot,
// stream the console, and turn what the console showed into an exit code.

import type { RunSettings } from '../config/types.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { unwrap } from '../diagnostics/result.js';
import { formatBytes } from '../units.js';
import { buildFromFlags, modeOf } from './build-command.js';
import { printPlanWarnings } from './report.js';
import { noopBuild } from './noop.js';
import { oneOf, optional } from '../cli/flag-values.js';
import { applyFlags, debugFromFlags, exposedForwards, settingsFromFlags, type VmFlags } from '../run/flag-settings.js';
import type { CheckReport } from '../check/types.js';
import { exitStatusOf, runOutcome } from '../run/outcome.js';
import { rootDisk } from '../run/spec.js';

export interface UpFlags extends VmFlags {
  cwd: string;
  config?: string;
  run?: string;
  exec?: string;
  port: string[];
  publishAll?: boolean;
  locked?: boolean;
  stopOnExpect?: boolean;
  kernelLog?: boolean;
  boot?: string;
  ci?: boolean;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
  format?: string;
  output?: string;
  out?: string;
  check?: boolean; // commander's --no-check
  force?: boolean;
}

const usage = (message: string, hint?: string): OsvError => new OsvError({ code: 'up.usage', message, ...(hint ? { hint } : {}), exitCode: ExitCode.usage });


/** "Failed looking up symbol X" -> which file needed X, from the symbol check. */
function explainWith(report: CheckReport): (symbol: string) => string | undefined {
  return (symbol) => {
    const o = report.symbolOwner(symbol);
    return o ? `${o.object} (${o.chain.join(' -> ')}) needs it` : undefined;
  };
}

export async function up(flags: UpFlags, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const bootMode = optional(flags.boot, (v) => oneOf<'kernel' | 'image'>('--boot', v, ['kernel', 'image']));
  // The VM flags are parsed (and refused) before anything is built.
  const overrides = settingsFromFlags(flags);
  const debug = debugFromFlags(flags);
  if ((debug.gdb || debug.vnc) && overrides.set.hypervisor === 'firecracker') throw usage('Firecracker has no gdb stub or VNC display', 'debug under QEMU: --hypervisor qemu');
  // An unchanged image boots without loading the configuration (CI always plans and checks).
  const noop = flags.ci ? undefined : await noopBuild(flags, env);
  const { arch, base, built, mode } = noop
    ? { arch: noop.record.arch, base: { ...noop.run.settings, kernelArgs: [] }, built: noop.outcome, mode: modeOf(flags, env) }
    : await buildFromFlags(flags, env, { ...(flags.ci ? { alwaysCheck: true } : {}), reporterOut: flags.json ? process.stderr : process.stdout }).then((b) => ({
        arch: b.config.arch,
        base: b.run.run.run,
        built: b.outcome,
        mode: b.mode,
      }));
  // The run settings from osv.yaml, with the command-line flags on top (-P: the image's ports first).
  const published = flags.publishAll ? exposedForwards(built.exposedPorts ?? []) : [];
  if (flags.publishAll && published.length === 0) process.stderr.write(`osv: note: -P: ${built.exposedPorts ? 'the image exposes no ports' : 'there is no from: image whose ports to publish'}\n`);
  const settings: RunSettings = applyFlags(base, { set: overrides.set, ports: [...published, ...overrides.ports] });
  if (flags.stopOnExpect && settings.expect === undefined) throw usage('--stop-on-expect needs an expectation: --expect REGEX or run.expect');
  // JSON events would mix with up's one JSON answer on stdout: warnings go there only as lines.
  printPlanWarnings(built, mode === 'json' ? 'plain' : mode);
  if (mode === 'plain' || mode === 'tty')
    process.stderr.write(
      `osv: ${built.upToDate ? 'image up to date' : 'built'} ${built.image} (${built.totals.files} files, ${formatBytes(built.totals.bytes)}) in ${built.ms} ms\n`,
    );

  const { prepareRun, executeRun, requestFromSettings } = await import('../run/runner.js');
  const how = bootMode ?? (built.kernel.elf ? 'kernel' : 'image');
  const disk = rootDisk(built.image, built.format, built.filesystem);
  let boot;
  if (how === 'kernel') {
    if (!built.kernel.elf)
      throw usage('direct kernel boot needs loader-stripped.elf, and the kernel bundle has only loader.img', 'use --output bootable --boot image, or point kernel.path at an OSv build directory');
    boot = { kind: 'kernel' as const, kernel: built.kernel.elf, cmdline: flags.exec ?? built.cmdline, disk };
  } else {
    if (built.output !== 'bootable') throw usage('--boot image needs a bootable image', 'add --output bootable');
    if (flags.exec !== undefined) throw usage('-e needs direct kernel boot: a bootable image runs the command line written inside it');
    boot = { kind: 'image' as const, disk };
  }
  const { attachVolumes } = await import('../volumes/attach.js');
  const volumes = unwrap(await attachVolumes(settings.volumes, { project: built.project.dir, config: built.project.config, run: flags.run ?? 'default', env, ...(flags.dryRun ? { dryRun: true } : {}) }));
  const request = requestFromSettings(arch, boot, settings, { ...(flags.ci ? { ci: true } : {}), env, debug, volumes, secrets: built.secrets });
  const prep = unwrap(await prepareRun(request));
  prep.notes.push(...volumes.notes);

  if (flags.dryRun) {
    if (flags.json) process.stdout.write(JSON.stringify({ ok: true, image: built.image, upToDate: built.upToDate, fromRecords: built.fromRecords === true, command: prep.shownArgv, commandLine: prep.commandLine, notes: prep.notes }, null, 2) + '\n');
    else {
      for (const n of prep.notes) process.stderr.write(`osv: note: ${n}\n`);
      process.stdout.write(prep.commandLine + '\n');
    }
    return ExitCode.ok;
  }
  for (const n of prep.notes) process.stderr.write(`osv: note: ${n}\n`);
  const report = await executeRun(prep, {
    ...(flags.json ? { stdout: process.stderr } : {}),
    handleSignals: true,
    forwardStdin: Boolean(process.stdin.isTTY) && !flags.ci,
    ...(flags.stopOnExpect ? { stopOnExpect: true } : {}),
    ...(flags.kernelLog ? { kernelLog: true } : {}),
    ...(built.check ? { explainSymbol: explainWith(built.check) } : {}),
  });
  const v = report.verdict;
  if (flags.json)
    process.stdout.write(
      JSON.stringify(
        {
          ok: v.ok,
          image: built.image,
          upToDate: built.upToDate,
          commandLine: prep.commandLine,
          exitStatus: exitStatusOf(v),
          verdict: v,
          ...(report.firstProgramLineMs !== undefined ? { firstProgramLineMs: report.firstProgramLineMs } : {}),
          kernelLog: report.kernelLog,
        },
        null,
        2,
      ) + '\n',
    );
  return runOutcome(v, { ci: Boolean(flags.ci), json: Boolean(flags.json) });
}
