// The boot command line of a `bootable` image: NUL-terminated at byte 512, read by OSv's boot
// sector. The kernel keeps at most 1024 bytes (max_cmdline), so the text plus its NUL must
// fit in 1024 (facts §4.3).

import { err, ok, type Result } from '../diagnostics/result.js';
import { ExitCode, OsvError } from '../diagnostics/error.js';
import { SECTOR } from './sector.js';

export const CMDLINE_OFFSET = SECTOR;
export const CMDLINE_MAX = 1024;

/** The bytes to put at 512: UTF-8 text and one NUL, padded with zeros to CMDLINE_MAX. */
export function encodeCmdline(cmdline: string): Result<Buffer, OsvError> {
  const text = Buffer.from(cmdline, 'utf8');
  if (text.includes(0))
    return err(new OsvError({ code: 'image.cmdline-invalid', message: 'the boot command line contains a NUL byte', exitCode: ExitCode.invalidInput }));
  if (text.length + 1 > CMDLINE_MAX)
    return err(
      new OsvError({
        code: 'image.cmdline-too-long',
        message: `the boot command line is ${text.length} bytes; OSv keeps at most ${CMDLINE_MAX - 1} (plus its NUL)`,
        details: [`starts with: ${cmdline.slice(0, 80)}…`],
        hint: 'shorten cmd/env, or move long settings into a file in the image',
        exitCode: ExitCode.invalidInput,
      }),
    );
  const b = Buffer.alloc(CMDLINE_MAX);
  text.copy(b);
  return ok(b);
}

/** The C string at 512 of a boot image's first 1536 bytes; undefined without a NUL. */
export function decodeCmdline(head: Buffer): string | undefined {
  const area = head.subarray(CMDLINE_OFFSET, CMDLINE_OFFSET + CMDLINE_MAX);
  const nul = area.indexOf(0);
  return nul < 0 ? undefined : area.subarray(0, nul).toString('utf8');
}
