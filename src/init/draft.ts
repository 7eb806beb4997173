// What `osv init` found out about the program it is given, before it becomes YAML text
// (src/config/init.ts renders it): the template, why, and what goes into the template's
// variables, `files`, `env` and `cmd`.

export type Runtime = 'python' | 'node' | 'java' | 'native';

export interface DraftFile {
  src: string;
  dest: string;
  exclude?: string[];
}

/** Files that belong together, under one comment (the script; the packages it imports). */
export interface DraftGroup {
  comment: string;
  files: DraftFile[];
}

export interface DraftVar {
  name: string;
  value: string;
  comment?: string;
}

export interface InitDraft {
  /** The runtime the program was recognised as. */
  runtime: Runtime;
  /** One line: the template chosen and why. */
  why: string;
  /** Things the user should know (a shim followed, a script not found). */
  notes: string[];
  vars: DraftVar[];
  files: DraftGroup[];
  env: Record<string, string>;
  /** The boot command; undefined when the template builds it from its variables (java). */
  cmd?: string[];
  /** The program's working directory in the guest, when it matters. */
  cwd?: string;
}

/** A guest path for a host file of the project: /app/<path below the project>, else /app/<name>. */
export function appPath(projectDir: string, host: string): { src: string; dest: string } {
  const rel = host.startsWith(projectDir + '/') ? host.slice(projectDir.length + 1) : undefined;
  return rel !== undefined ? { src: `./${rel}`, dest: `/app/${rel}` } : { src: host, dest: `/app/${host.slice(host.lastIndexOf('/') + 1)}` };
}
