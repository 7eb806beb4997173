// `osv trace -- PROGRAM [ARGS]`: run one program on the host and report what it used at run
// time that the plan lacks. The stage lives in src/trace/ and is imported when the command runs.

import { InvalidArgumentError, Option } from 'commander';
import type { CommandModule } from '../command.js';
import { parseDuration as parseConfigDuration } from '../../config/values.js';

export interface TraceCliOptions {
  duration?: number;
  write?: boolean;
  config?: string;
  strace: boolean;
  json?: boolean;
}

/** Seconds from `30`, `1.5s`, `500ms`, `2m`, `1h`: the syntax and bounds of run.timeout (config/values.ts). */
export function parseDuration(text: string): number {
  const r = parseConfigDuration(text.trim());
  if (!r.ok) throw new InvalidArgumentError(r.message);
  return r.value;
}

export const command: CommandModule = {
  register(program) {
    program
      .command('trace')
      .summary('run a program on the host and list the files it uses that the plan lacks')
      .description(
        'Run PROGRAM on this machine with the loader\'s tracing (LD_DEBUG) and, when installed, strace, and ' +
          'list what it used at run time that static analysis cannot see: dlopen\'d libraries, NSS and iconv ' +
          'modules, locale, timezone and CA data, interpreter libraries. Only what the current plan lacks is ' +
          'shown; --write adds it to osv.yaml.\n\n' +
          'osv trace runs only the program you name after `--`, with the arguments you give, as you: it never ' +
          'runs anything else. It stops when the program exits, after --duration, or on Ctrl-C (the report is ' +
          'printed either way).',
      )
      .argument('<program>', 'the program to run: a path, or a name looked up on PATH')
      .argument('[args...]', 'its arguments (put `--` before the program so they are not read as osv options)')
      .addOption(new Option('-d, --duration <time>', 'stop the program after this long (seconds, or 500ms, 1.5s, 2m)').argParser(parseDuration))
      .option('-w, --write', 'add the missing libraries and files to the configuration file (comments and formatting kept)')
      .option('-c, --config <file>', 'the configuration to compare against and --write to (default: osv.yaml found from here)')
      .option('--no-strace', 'trace libraries only, even when strace is installed')
      .option('--json', 'print the report as JSON (the program\'s own output goes to stderr)')
      .addHelpText(
        'after',
        `
Examples:
  $ osv trace -- ./server --port 8080            run until it exits (or Ctrl-C)
  $ osv trace --duration 10s -- ./server         stop it after 10 seconds
  $ osv trace --write -- /usr/bin/python3 app.py add what it used to osv.yaml
  $ osv trace --json -- ./tool --version | jq '.findings[].path'

What is reported: libraries loaded after start-up (dlopen, NSS, iconv, Python extensions, the JVM),
data files and directories it read (locale, timezone, CA certificates, /etc files, interpreter
libraries), programs it started and files it wrote. Left out: /proc, /sys, /dev, /run, the
loader's cache, libraries the OSv kernel provides, and everything already in the plan.`,
      )
      .action(async (prog: string, args: string[], opts: TraceCliOptions) => {
        const { runTraceCommand } = await import('../../trace/cli.js');
        await runTraceCommand(prog, args, opts);
      });
  },
};
