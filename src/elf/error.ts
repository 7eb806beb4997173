// The ELF reader's only failure type: an OsvError whose code says what is wrong
// (elf.bad-magic, elf.truncated, ...) and which names the file and the byte offset.

import { OsvError } from '../diagnostics/error.js';

export type ElfErrorCode =
  | 'elf.io' // the file could not be opened or read
  | 'elf.bad-magic' // not an ELF file
  | 'elf.bad-ident' // unknown class, data encoding or version in e_ident
  | 'elf.truncated' // a structure extends past the end of the file
  | 'elf.bad-header' // an impossible header field (entry size, count)
  | 'elf.bad-address' // a virtual address that no PT_LOAD maps
  | 'elf.bad-string' // a string index out of its table, unterminated or too long
  | 'elf.too-large' // a table larger than the reader's caps
  | 'elf.not-loadable'; // a valid ELF file that is not a program or library (ET_REL, ET_CORE)

export class ElfError extends OsvError {
  declare readonly code: ElfErrorCode;
  readonly file: string;
  /** Byte offset in the file where the bad value was read (or the structure starts). */
  readonly offset: number;
  constructor(code: ElfErrorCode, file: string, offset: number, what: string) {
    super({
      code,
      message: `${file}: ${what} (at byte offset ${offset})`,
      hint:
        code === 'elf.bad-magic'
          ? 'this file is not an ELF binary; give a compiled program or shared library'
          : code === 'elf.io'
            ? 'check that the file exists and is readable'
            : code === 'elf.not-loadable'
              ? 'give a linked executable or shared library'
              : 'the file is truncated or corrupted; rebuild or reinstall it',
    });
    this.name = 'ElfError';
    this.file = file;
    this.offset = offset;
  }
}

export const isElfError = (e: unknown): e is ElfError => e instanceof ElfError;
