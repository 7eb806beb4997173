// Why a file a program used at run time matters in the image. Pure functions of the path:
// the categories are the ones static analysis cannot see (OSv's manifest_from_host.sh
// documentation names them), each with the sentence the report prints.

import { posix } from 'node:path';
import type { LoadHow } from './ld-debug.js';

export type LibraryCategory = 'nss-module' | 'gconv-module' | 'python-extension' | 'jvm' | 'dlopen' | 'dlopen-closure' | 'needed';
export type FileCategory =
  | 'timezone'
  | 'locale'
  | 'ca-certificates'
  | 'nss-config'
  | 'gconv-config'
  | 'python'
  | 'java'
  | 'icu'
  | 'terminfo'
  | 'config'
  | 'data'
  | 'directory';
export type Category = LibraryCategory | FileCategory;

export const REASONS: Record<Category, string> = {
  'nss-module': "NSS module: glibc dlopens it for user, group and host lookups (nsswitch.conf); invisible to DT_NEEDED",
  'gconv-module': "iconv converter: glibc dlopens it for character-set conversion; invisible to DT_NEEDED",
  'python-extension': 'Python extension module: imported at run time; invisible to DT_NEEDED',
  jvm: 'the JVM and its native libraries: the java launcher dlopens them; invisible to DT_NEEDED',
  dlopen: "dlopen'd at run time: invisible to DT_NEEDED",
  'dlopen-closure': "needed by a dlopen'd library: comes with that library's closure once it is listed",
  needed: 'needed at startup (DT_NEEDED): osv resolves these itself once the program is in the plan',
  timezone: 'timezone data: read by localtime() and friends',
  locale: 'locale data: read by setlocale() and message catalogs',
  'ca-certificates': 'CA certificates and TLS configuration: read when a TLS connection is verified',
  'nss-config': 'name-service configuration: read by user, group, host and service lookups',
  'gconv-config': 'iconv configuration: read before a converter module is loaded',
  python: 'Python standard library or package: imported at run time',
  java: 'Java runtime file: read by the JVM at run time',
  icu: 'ICU data: Unicode and locale tables read at run time',
  terminfo: 'terminal description (terminfo)',
  config: 'configuration read at run time',
  data: 'data file read at run time',
  directory: 'directory listed at run time (nothing read inside it is missing)',
};

const NSS_FILES = new Set([
  '/etc/nsswitch.conf',
  '/etc/passwd',
  '/etc/group',
  '/etc/shadow',
  '/etc/hosts',
  '/etc/host.conf',
  '/etc/resolv.conf',
  '/etc/gai.conf',
  '/etc/services',
  '/etc/protocols',
  '/etc/networks',
]);

const under = (path: string, ...dirs: string[]): boolean => dirs.some((d) => path.startsWith(d.endsWith('/') ? d : d + '/'));

/** The category of a library the loader mapped, from how it was loaded and where it lives. */
export function classifyLibrary(path: string, how: LoadHow | 'closure'): LibraryCategory {
  if (how === 'closure') return 'dlopen-closure';
  if (how === 'needed') return 'needed';
  const base = posix.basename(path);
  if (base.startsWith('libnss_')) return 'nss-module';
  if (path.includes('/gconv/')) return 'gconv-module';
  if (path.includes('/lib-dynload/') || /\.cpython-\d+.*\.so$/.test(base) || /\/(site|dist)-packages\//.test(path)) return 'python-extension';
  if (path.includes('/jvm/') || base === 'libjvm.so') return 'jvm';
  return 'dlopen';
}

/** The category of a data file (or directory) the program opened. */
export function classifyFile(path: string, directory: boolean): FileCategory {
  if (path === '/etc/localtime' || path === '/etc/timezone' || under(path, '/usr/share/zoneinfo')) return 'timezone';
  if (under(path, '/usr/lib/locale', '/usr/share/locale', '/usr/share/i18n') || path.endsWith('.mo')) return 'locale';
  if (under(path, '/etc/ssl', '/usr/share/ca-certificates', '/etc/pki', '/usr/lib/ssl', '/etc/ca-certificates')) return 'ca-certificates';
  if (NSS_FILES.has(path)) return 'nss-config';
  if (path.includes('/gconv/')) return 'gconv-config';
  if (directory) return 'directory';
  if (/\/python\d[\d.]*\//.test(path)) return 'python';
  if (under(path, '/usr/lib/jvm') || path.includes('/jre/lib/') || path.endsWith('.jsa')) return 'java';
  if (under(path, '/usr/share/icu') || /\/icudt\d+[lb]\.dat$/.test(path)) return 'icu';
  if (under(path, '/usr/share/terminfo', '/lib/terminfo', '/etc/terminfo')) return 'terminfo';
  if (under(path, '/etc')) return 'config';
  return 'data';
}
