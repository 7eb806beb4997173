// What `osv trace --write` adds, written as a person would: the files a program read inside a
// Python package, a node module or a locale directory become one tree entry for that directory
// (a package is shipped whole, not the 30 of its files one run happened to import), and the
// extension modules loaded from inside such a directory come with the tree.

import { posix } from 'node:path';
import type { HostFs } from '../hostfs.js';

export type TreeKind = 'python package' | 'python package metadata' | 'node module' | 'locale directory';

export interface TreeDir {
  dir: string;
  kind: TreeKind;
}

const NODE_MODULE = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//;
const METADATA = /^(.*\/[^/]+\.(?:dist-info|egg-info))\//;
const LOCALE = /^(\/usr\/(?:lib|share)\/locale\/[^/]+)\//;

/** The directory a used file (or listed directory) belongs to that is shipped whole, if any. */
export function treeDirOf(fs: HostFs, used: string, isDir = false): TreeDir | undefined {
  const path = isDir ? `${used}/` : used;
  const node = NODE_MODULE.exec(path);
  if (node) return { dir: node[1]!, kind: 'node module' };
  const meta = METADATA.exec(path);
  if (meta) return { dir: meta[1]!, kind: 'python package metadata' };
  const locale = LOCALE.exec(path);
  if (locale) return { dir: locale[1]!, kind: 'locale directory' };
  // A Python package: the outermost directory above the file that holds an __init__.py.
  let top: string | undefined;
  for (let d = isDir ? used : posix.dirname(used); d !== '/' && fs.stat(posix.join(d, '__init__.py'))?.kind === 'file'; d = posix.dirname(d)) top = d;
  return top ? { dir: top, kind: 'python package' } : undefined;
}

/** How each kind is named: one, several. */
export const KIND_NAMES: Record<TreeKind, [string, string]> = {
  'python package': ['Python package', 'Python packages'],
  'python package metadata': ['Python package metadata directory', 'Python package metadata directories'],
  'node module': ['node module', 'node modules'],
  'locale directory': ['locale directory', 'locale directories'],
};
