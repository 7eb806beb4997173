// The version an OSv kernel prints when it boots ("OSv v0.57.0-398-g0e34e4dc"), read from the
// ELF's bytes without booting it: the first "OSv v<digit>..." string in the file. Undefined
// when there is none (a kernel built without its version string).

import * as fs from 'node:fs';

const PATTERN = /OSv (v[0-9][0-9A-Za-z.+_-]{0,63})/;

export function kernelVersionString(elf: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(elf);
  } catch {
    return undefined;
  }
  const at = bytes.indexOf('OSv v');
  for (let i = at; i >= 0; i = bytes.indexOf('OSv v', i + 1)) {
    const m = PATTERN.exec(bytes.subarray(i, i + 80).toString('latin1'));
    if (m && m.index === 0) return m[1];
  }
  return undefined;
}
