// Known runtimes planned without what their template always brings, said before anything boots:
// a python without its `encodings` package stops at start ("No module named 'encodings'"), a
// node with /proc mounted makes OSv assert in procfs_maps (docs/templates.md), a java without
// its class library (lib/modules) cannot start. Each warning names the one-line fix.

import { posix } from 'node:path';
import type { Config, RunConfig } from '../config/types.js';
import { templatesDir } from '../config/paths.js';
import type { PlanEntry } from './types.js';

export interface RuntimeCheckInput {
  config: Config;
  /** The entries of the image, by guest path. */
  entries: ReadonlyMap<string, PlanEntry>;
  /** The guest path of the run's program. */
  program: string;
  run: RunConfig;
}

const extendsTemplate = (config: Config, name: string): boolean => config.loadedFiles.includes(posix.join(templatesDir, `${name}.yaml`));

/** The host file of a planned file entry. */
function hostOf(e: PlanEntry | undefined): string | undefined {
  return e?.kind === 'file' ? e.host : undefined;
}

export function runtimeWarnings(i: RuntimeCheckInput): string[] {
  const host = hostOf(i.entries.get(i.program));
  if (host === undefined) return [];
  const name = posix.basename(host);
  const python = /^python(3\.\d+)$/.exec(name)?.[1];
  if (python) return pythonWarnings(i, python, host);
  if (name === 'node' || name === 'nodejs') return nodeWarnings(i);
  if (name === 'java') return javaWarnings(i);
  return [];
}

function pythonWarnings(i: RuntimeCheckInput, version: string, host: string): string[] {
  // Python finds its library under PYTHONHOME, else under the directory above the program's bin/.
  const home = i.run.env['PYTHONHOME']?.split(':')[0] || posix.dirname(posix.dirname(i.program));
  const lib = posix.join(home, 'lib', `python${version}`);
  if (i.entries.has(posix.join(lib, 'encodings', '__init__.py'))) return [];
  const prefix = posix.dirname(posix.dirname(host));
  const fix = extendsTemplate(i.config, 'python')
    ? `set the template's variables to this interpreter: vars: {pythonVersion: "${version}", pythonPrefix: ${prefix}}`
    : `extends: [template:python], with vars: {pythonVersion: "${version}", pythonPrefix: ${prefix}} (or \`osv init -- ${host} ...\`)`;
  return [`${i.program} is Python ${version}, and the image has no ${lib}/encodings (its standard library): it stops at start with "No module named 'encodings'". Fix: ${fix}`];
}

function nodeWarnings(i: RuntimeCheckInput): string[] {
  if (!i.config.image.mounts['/proc']) return [];
  const fix = extendsTemplate(i.config, 'node') ? 'image: {mounts: {/proc: false}}' : 'extends: [template:node] (or image: {mounts: {/proc: false}})';
  return [`${i.program} is Node.js, and the image mounts /proc: V8 reads /proc/self/maps at start and OSv asserts in procfs_maps (docs/templates.md). Fix: ${fix}`];
}

function javaWarnings(i: RuntimeCheckInput): string[] {
  const home = posix.dirname(posix.dirname(i.program));
  if (i.entries.has(posix.join(home, 'lib', 'modules'))) return [];
  return [`${i.program} is a Java launcher, and the image has no class library beside it (${home}/lib/modules): the JVM cannot start. Fix: extends: [template:java], with cmd left to it (or vars: {jar: ...})`];
}
