// Reads glibc's loader trace (LD_DEBUG=libs,files written to LD_DEBUG_OUTPUT.<pid>): which
// libraries each process loaded, and whether each was a DT_NEEDED dependency or dlopen'd.
// The text format is glibc's (elf/dl-load.c, elf/dl-open.c); lines look like
//   "  1234:\tfile=libz.so.1 [0];  dynamically loaded by ./prog [0]"
//   "  1234:\tfind library=libz.so.1 [0]; searching"
//   "  1234:\t  trying file=/lib/x86_64-linux-gnu/libz.so.1"
//   "  1234:\tfile=libz.so.1 [0];  generating link map"

/** How a library came to be loaded. */
export type LoadHow = 'needed' | 'dlopen';

export interface LoadedLibrary {
  /** The name the loader was asked for: a soname, or a path when it contained a slash. */
  request: string;
  /** The file the loader mapped (as found, before symlinks are followed). */
  path: string;
  how: LoadHow;
  /** The object that needed it or called dlopen, as the loader names it (the program may be relative). */
  by: string;
  pid: number;
}

export interface LoaderTrace {
  libraries: LoadedLibrary[];
  /** Programs each process ran ("initialize program:"), in order. */
  programs: Array<{ pid: number; program: string }>;
}

const LINE = /^\s*(\d+):\t?(.*)$/;
const REQUEST = /^file=(.+?) \[\d+\];\s+(needed by|dynamically loaded by) (.+?) \[\d+\]$/;
const LINK_MAP = /^file=(.+?) \[\d+\];\s+generating link map$/;
const TRYING = /^\s*trying file=(.+)$/;
const INIT_PROGRAM = /^initialize program: (.+)$/;

/** Parse one LD_DEBUG output file (several processes may share one after an exec in the same pid). */
export function parseLoaderTrace(text: string): LoaderTrace {
  const libraries: LoadedLibrary[] = [];
  const programs: LoaderTrace['programs'] = [];
  // The request being searched for, per pid (lines of different pids never interleave in one
  // file, but a file written after exec in the same pid continues with a new program).
  const pending = new Map<number, { request: string; how: LoadHow; by: string; tried?: string }>();
  for (const raw of text.split('\n')) {
    const m = LINE.exec(raw);
    if (!m) continue;
    const pid = Number(m[1]);
    const body = m[2] ?? '';
    let r: RegExpExecArray | null;
    if ((r = REQUEST.exec(body))) {
      pending.set(pid, { request: r[1]!, how: r[2] === 'needed by' ? 'needed' : 'dlopen', by: r[3]! });
    } else if ((r = TRYING.exec(body))) {
      const p = pending.get(pid);
      if (p) p.tried = r[1]!;
    } else if ((r = LINK_MAP.exec(body))) {
      const p = pending.get(pid);
      if (p && p.request === r[1]) {
        // A request with a slash is loaded from that path; otherwise from the last file tried.
        const path = p.request.includes('/') ? p.request : p.tried;
        if (path !== undefined) libraries.push({ request: p.request, path, how: p.how, by: p.by, pid });
        pending.delete(pid);
      }
    } else if ((r = INIT_PROGRAM.exec(body))) {
      programs.push({ pid, program: r[1]! });
    }
  }
  return { libraries, programs };
}
