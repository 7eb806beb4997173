// `osv init` for node: the binary goes into template:node's `node` variable (when it is not the
// template's /usr/bin/node, e.g. nvm's), the script into `files`, and the project's
// node_modules beside it as one tree.

import * as path from 'node:path';
import type { HostFs } from '../hostfs.js';
import { appPath, type DraftGroup, type InitDraft } from './draft.js';
import type { Program } from './program.js';

export const isNode = (p: Program): boolean => /^(node|nodejs)$/.test(path.basename(p.real));

/** Options whose value is the next word (the script or code follows them). */
const WITH_VALUE = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader', '--input-type', '--title', '--env-file']);

export function nodeDraft(fs: HostFs, p: Program, args: string[], projectDir: string): InitDraft {
  const cmd = ['/usr/bin/node'];
  const groups: DraftGroup[] = [];
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-') && !['-e', '--eval', '-p', '--print', '-'].includes(args[i]!); i++) {
    cmd.push(args[i]!);
    if (WITH_VALUE.has(args[i]!) && i + 1 < args.length) cmd.push(args[++i]!);
  }
  const first = args[i];
  if (first !== undefined && !first.startsWith('-')) {
    const script = path.resolve(projectDir, first);
    const mapped = appPath(projectDir, script);
    groups.push({ comment: 'The script.', files: [mapped] });
    const modules = path.join(path.dirname(script), 'node_modules');
    if (fs.stat(modules)?.kind === 'dir') groups.push({ comment: 'The packages it requires (npm install), as one tree.', files: [appPath(projectDir, modules)] });
    cmd.push(mapped.dest, ...args.slice(i + 1));
  } else cmd.push(...args.slice(i));
  return {
    runtime: 'node',
    why: `${p.given} is Node.js (${p.real})`,
    notes: [],
    vars: p.real === '/usr/bin/node' ? [] : [{ name: 'node', value: p.real, comment: 'the node binary to copy' }],
    files: groups,
    env: {},
    cmd,
  };
}
