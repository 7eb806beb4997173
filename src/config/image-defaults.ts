// What an image's config supplies when osv.yaml leaves it out (image-spec config.md):
// Entrypoint + Cmd become `cmd`, Env the environment (osv.yaml wins per variable), WorkingDir
// the `cwd`. Applied once, after the image is known, to every run; pure.

import type { Config, RunConfig } from './types.js';

export interface ImageRunDefaults {
  entrypoint?: string[];
  cmd?: string[];
  /** `VAR=VALUE` entries. */
  env: string[];
  workingDir?: string;
}

/** The argv an image starts: Entrypoint then Cmd (no Entrypoint: Cmd[0] is the program). */
export const imageArgv = (d: ImageRunDefaults): string[] => [...(d.entrypoint ?? []), ...(d.cmd ?? [])];

function envOf(list: string[]): Array<[string, string]> {
  return list.flatMap((e) => {
    const eq = e.indexOf('=');
    return eq > 0 ? [[e.slice(0, eq), e.slice(eq + 1)] as [string, string]] : [];
  });
}

function withDefaults(run: RunConfig, d: ImageRunDefaults): RunConfig {
  const argv = imageArgv(d);
  const imageEnv = envOf(d.env).filter(([k]) => !(k in run.env));
  const cmd = run.cmd === undefined && argv.length > 0;
  const cwd = run.cwd === undefined && d.workingDir !== undefined;
  return {
    ...run,
    ...(cmd ? { cmd: argv } : {}),
    ...(cwd ? { cwd: d.workingDir } : {}),
    env: { ...Object.fromEntries(imageEnv), ...run.env },
    fromImage: { ...(cmd ? { cmd: true as const } : {}), ...(cwd ? { cwd: true as const } : {}), ...(imageEnv.length > 0 ? { env: imageEnv.map(([k]) => k) } : {}) },
  };
}

export function applyImageDefaults(config: Config, d: ImageRunDefaults): Config {
  return {
    ...config,
    defaultRun: withDefaults(config.defaultRun, d),
    runs: Object.fromEntries(Object.entries(config.runs).map(([name, run]) => [name, withDefaults(run, d)])),
  };
}
