// Dynamic string tokens in DT_NEEDED, DT_RPATH, DT_RUNPATH and the library path, expanded as
// glibc does: $ORIGIN, $LIB, $PLATFORM, in plain or braced form. A token must end at a
// character that cannot continue a name ("$ORIGINAL" is not $ORIGIN); unknown tokens stay.

export interface DstValues {
  /** Directory of the object (for a program the directory of its real path). */
  origin: string;
  lib: string;
  platform: string;
}

const TOKEN = /\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?![A-Za-z0-9_]))/g;

export function expandDst(s: string, v: DstValues): string {
  return s.replace(TOKEN, (_m, braced: string | undefined, plain: string | undefined) => {
    const name = braced ?? plain;
    return name === 'ORIGIN' ? v.origin : name === 'LIB' ? v.lib : v.platform;
  });
}

/**
 * Split a search-path string (DT_RPATH, DT_RUNPATH) into directories, as glibc's
 * fillin_rpath does: an empty element or "." means the current directory, trailing slashes go.
 * Relative directories are taken from "/" (OSv starts programs in "/").
 */
export function splitSearchPath(s: string, v: DstValues): string[] {
  return s.split(':').map((e) => {
    const d = expandDst(e, v);
    return (d.startsWith('/') ? d : '/' + (d === '.' ? '' : d)).replace(/\/+$/, '') || '/';
  });
}
