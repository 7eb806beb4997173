// `osv resolve`: the dependency closure of an ELF program, library or directory, printed as
// OSv's manifest_from_host.sh prints it (or as JSON, or as an explained tree).

import { Option } from 'commander';
import type { CommandModule } from '../command.js';
import type { ResolveCliOptions } from '../../resolve/cli.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export const command: CommandModule = {
  register(program) {
    program
      .command('resolve')
      .summary('list the shared libraries an ELF program or library needs, as a manifest')
      .description(
        'Read an ELF file (never running it) and follow glibc ld.so\'s search rules (DT_RPATH, library path, ' +
          'DT_RUNPATH, ld.so.cache, default directories) to its full dependency closure, inside --sysroot. ' +
          'Prints the manifest lines OSv\'s scripts/manifest_from_host.sh prints: a comment with the kind of ' +
          'file, `/<name>: <host path>` for the target, then `/usr/lib/<soname>: <host path>` for every library ' +
          'to ship. Libraries the OSv kernel provides (libc, libm, libpthread, ld-linux, ...) are left out; ' +
          'a missing library, a static executable or a binary for another architecture is an error.\n\n' +
          'TARGET is an ELF file, a directory (prints `/**: <dir>/**`; with -r also the libraries its .so files ' +
          'need), a library soname with -l, or a program name looked up on PATH.',
      )
      .argument('<target>', 'ELF file, directory, library soname (-l) or program name')
      .argument('[subdirectory]', 'with a directory: only this subdirectory of it')
      .option('-l, --library', 'a TARGET that is not a file is a library soname, found as dlopen() would')
      .option('-r, --recursive', 'with a directory: also resolve the shared libraries found in it')
      .option('-R, --real-prefix', 'with a directory: put it at its real host path in the guest (default /)')
      .option('-w, --write', 'also write the output to .osv/append.manifest in the current directory (and /<program> --help to .osv/append_cmdline), where manifest_from_host.sh wrote build/last/ of an OSv tree')
      .option('-i, --ignore-missing', 'with -l: a library that is not found prints nothing and exits 0')
      .option('--json', 'print the manifest lines and the whole closure with provenance as JSON')
      .option('--explain', 'print a tree: why each library is there and how it was found')
      .option('--sysroot <dir>', 'resolve inside this root directory (its ld.so.cache, its libraries)', '/')
      .addOption(new Option('--arch <arch>', 'target architecture (default: this machine\'s)').choices(['x86_64', 'aarch64']))
      .option('--library-path <dirs>', 'directories searched like LD_LIBRARY_PATH (colon-separated; repeatable)', collect, [])
      .option('--hidden-symbols', 'the kernel was built with conf_hide_symbols=1: ship libstdc++.so.6 too')
      .option('--no-kernel-filter', 'also list the libraries the OSv kernel provides (the plain Linux closure)')
      .option('--optional <soname>', 'a library whose absence is not an error (repeatable)', collect, [])
      .addHelpText(
        'after',
        `
Examples:
  $ osv resolve /usr/bin/curl                    manifest lines for curl and its libraries
  $ osv resolve curl                             the same, curl found on PATH
  $ osv resolve -l libssl.so.3                   a library by soname, and what it needs
  $ osv resolve --explain ./server               why each library is there, how it was found
  $ osv resolve --json ./server | jq '.closure.objects[] | {soname, rule, chain}'
  $ osv resolve -r ./app lib                     /lib/**: ./app/lib/** plus the libraries its .so files need
  $ osv resolve --sysroot /srv/rootfs /usr/bin/nginx   resolve inside another root
  $ osv resolve -w ./server                      also write .osv/append.manifest

Differences from manifest_from_host.sh: PIE and static executables are labelled correctly; the
closure is exact (libselinux and the libraries of kernel-provided ones are not dropped or
added by a regex); a library needed under another name than its soname gets a line for each
name; -l takes an exact soname, not a regular expression; -w writes to .osv/ in the current
directory; anything missing is an error (exit 1) that lists every path tried.`,
      )
      .action(async (target: string, sub: string | undefined, opts: ResolveCliOptions) => {
        const { resolveCommand } = await import('../../resolve/cli.js');
        await resolveCommand(target, sub, opts);
      });
  },
};
