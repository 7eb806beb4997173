// `osv push REF [flags]` as commander would read it, for the start (start.ts), which hands such a
// command line to the fast path (fast-push.ts) before loading the CLI proper. Only command lines
// that path may take: not --force (a build), nor a layout or archive target (the full path
// writes those), so that their push does not load the fast path's bundle in vain.

import { PUSH_FLAGS } from '../tasks/flags.js';
import type { PushCommandOptions } from '../tasks/push-built.js';
import { parseCommandArgs } from './command-args.js';

export interface PushArgs {
  ref: string;
  options: PushCommandOptions & { dir?: string };
}

export function parsePushArgs(args: string[]): PushArgs | undefined {
  const parsed = parseCommandArgs(args, 'push', PUSH_FLAGS, 1);
  if (!parsed || parsed.options['force'] === true) return undefined;
  const ref = parsed.operands[0]!;
  return /^(oci|oci-archive|docker-archive):/.test(ref) ? undefined : { ref, options: parsed.options as PushArgs['options'] };
}
