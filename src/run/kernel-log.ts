// OSv's own debug lines. osv-up boots every program with `--verbose`, because only then does
// OSv print the program's exit status (facts §13); the price is the kernel's debug log on the
// console. These rules tell those lines apart from the program's output, so that the user's
// console shows what it shows without --verbose (`--kernel-log` shows everything).
//
// Each pattern was read off a real console (v0.57.0-398, rofs and ext roots, user networking,
// with and without --verbose): a line matches only when it has the exact shape OSv prints, so a
// program's own line is hidden only if it imitates one of them to the letter.

interface KernelLogRule {
  /** The literal start of every such line (used to hold back a line still arriving). */
  start: string;
  re: RegExp;
}

const RULES: readonly KernelLogRule[] = [
  // Boot: what the kernel reports while it brings up devices and file systems.
  { start: '', re: /^\d+ CPUs? detected$/ },
  { start: 'Firmware vendor: ', re: /^Firmware vendor: .*$/ },
  { start: 'NUMA: ', re: /^NUMA: .*$/ },
  { start: 'bsd: ', re: /^bsd: initializing - done$/ },
  { start: 'net: ', re: /^net: initializing - done$/ },
  { start: 'VFS: ', re: /^VFS: (?:mounting|unmounting) \S+(?: at \S+)?$/ },
  // A file-system module of /usr/lib/fs loaded before the mounts (the ext module of a named volume).
  { start: 'VFS: ', re: /^VFS: initialized filesystem library: \/usr\/lib\/fs\/\S+\.so$/ },
  { start: 'devfs: ', re: /^devfs: created device .*$/ },
  { start: 'virtio-blk: ', re: /^virtio-blk: Add blk device instances .*$/ },
  { start: 'random: ', re: /^random: .*$/ },
  { start: '[ext4] ', re: /^\[ext4\] (?:Mounted ext .*|Unmounted ext filesystem!)$/ },
  // Networking: the MAC address and the DHCP exchange ("eth0: <address>" shows without --verbose too).
  { start: 'eth', re: /^eth\d+: ethernet address: [0-9a-f:]+$/ },
  { start: '[I/', re: /^\[I\/\d+ dhcp\]: .*$/ },
  // The loader: symbols it left unbound (lazy PLT slots), one line each.
  { start: '/', re: /^\/\S*: ignoring missing symbol \S+$/ },
  // The program's end: its status (the reason --verbose is there), then shutdown.
  { start: 'program ', re: /^program exited with status -?\d+$/ },
  { start: 'program ', re: /^program \S+ returned -?\d+$/ },
  { start: 'ROFS: ', re: /^ROFS: .*$/ },
  { start: 'Powering off.', re: /^Powering off\.$/ },
];

/** A complete console line (escape sequences and the line ending already removed). */
export function isKernelLogLine(line: string): boolean {
  return RULES.some((r) => r.re.test(line));
}

/** Longer than any kernel line's start: a partial line this long is decided. */
const HOLD_LIMIT = 160;

/** `text` and `literal` agree as far as both go. */
const agrees = (text: string, literal: string): boolean => literal.startsWith(text) || text.startsWith(literal);

/**
 * Could a line that begins with `partial` (no line ending yet) turn out to be a kernel line?
 * The console view holds such a beginning back until its line is complete (or briefly).
 */
export function mayBeKernelLogLine(partial: string): boolean {
  if (partial.length > HOLD_LIMIT) return false;
  const count = /^\d+/.exec(partial);
  if (count) return agrees(partial.slice(count[0].length), ' CPUs detected') || agrees(partial.slice(count[0].length), ' CPU detected');
  if (partial.startsWith('/')) {
    const colon = partial.indexOf(': ');
    return colon < 0 ? !/\s/.test(partial) : agrees(partial.slice(colon), ': ignoring missing symbol ');
  }
  return RULES.some((r) => r.start !== '' && r.start !== '/' && agrees(partial, r.start));
}
