// `osv init` for java: `java [options] -jar app.jar args` and `java [options] -cp PATH Main args`
// become template:java's variables (jar, classpath, mainClass, javaOptions, args), the jar or
// the class path entries go into `files` under /app, and the JRE goes into `javaHome` only
// when it is not the one the template would find by itself (JAVA_HOME, else `java` on PATH).

import * as path from 'node:path';
import type { HostFs } from '../hostfs.js';
import { programHome } from '../config/program-home.js';
import { shellQuote } from '../run/shell-quote.js';
import { appPath, type DraftFile, type DraftVar, type InitDraft } from './draft.js';
import type { Program } from './program.js';

export const isJava = (p: Program): boolean => path.basename(p.real) === 'java';

const CLASSPATH = new Set(['-cp', '-classpath', '--class-path']);
/** JVM options whose value is the next word. */
const WITH_VALUE = new Set(['--add-opens', '--add-exports', '--add-modules', '--module-path', '-p', '--add-reads', '--limit-modules']);
const DEFAULT_OPTIONS = '-XX:MaxRAMPercentage=75';

export function javaDraft(fs: HostFs, p: Program, args: string[], projectDir: string, env: Record<string, string | undefined>): InitDraft {
  const options: string[] = [];
  let jar: string | undefined;
  let classpath: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-jar' && i + 1 < args.length) {
      jar = args[++i]!;
      i++;
      break;
    }
    if (CLASSPATH.has(a) && i + 1 < args.length) classpath = args[++i]!;
    else if (!a.startsWith('-')) break;
    else {
      options.push(a);
      if (WITH_VALUE.has(a) && i + 1 < args.length) options.push(args[++i]!);
    }
  }
  const mainClass = jar === undefined ? args[i++] : undefined;
  const rest = args.slice(i);
  const files: DraftFile[] = [];
  const vars: DraftVar[] = [];

  const home = path.dirname(path.dirname(p.real));
  const found = env['JAVA_HOME'] || (() => {
    const h = programHome(fs, env, 'java');
    return h.ok ? h.home : undefined;
  })();
  if (found !== home) vars.push({ name: 'javaHome', value: home, comment: `the JRE of ${p.given}` });
  if (jar !== undefined) {
    const m = appPath(projectDir, path.resolve(projectDir, jar));
    files.push(m);
    vars.push({ name: 'jar', value: m.dest });
  } else if (classpath !== undefined) {
    const guest: string[] = [];
    for (const entry of classpath.split(':').filter(Boolean)) {
      // `dir/*` is every jar in dir: ship the directory.
      const wildcard = entry.endsWith('/*') || entry === '*';
      const host = path.resolve(projectDir, wildcard ? entry.slice(0, -1) || '.' : entry);
      const m = appPath(projectDir, host);
      if (!files.some((f) => f.src === m.src)) files.push(m);
      guest.push(wildcard ? `${m.dest}/*` : m.dest);
    }
    vars.push({ name: 'classpath', value: guest.join(':') });
  }
  if (mainClass !== undefined) vars.push({ name: 'mainClass', value: mainClass });
  if (options.length) vars.push({ name: 'javaOptions', value: `${DEFAULT_OPTIONS} ${shellQuote(options)}` });
  if (rest.length) vars.push({ name: 'args', value: shellQuote(rest) });
  return {
    runtime: 'java',
    why: `${p.given} is a Java runtime (${p.real})${jar !== undefined ? `, running the jar ${jar}` : mainClass !== undefined ? `, running the class ${mainClass}` : ''}`,
    notes: jar === undefined && mainClass === undefined ? ['no -jar or main class was given: set `jar` or `mainClass` under vars'] : [],
    vars,
    files: files.length ? [{ comment: jar !== undefined ? 'The jar.' : 'The class path.', files }] : [],
    env: {},
  };
}
