// The ELF reader: a bounded, dependency-free parser of the parts a dynamic linker reads.

export * from './constants.js';
export { ElfError, isElfError, type ElfErrorCode } from './error.js';
export { ElfFile, LIMITS, type DynEntry, type FileHeader, type Prog, type Section } from './file.js';
export { dynamicInfo, type DynamicInfo } from './dynamic.js';
export { classify, kindLabel, type ElfKind } from './classify.js';
export { dynamicSymbols, versionDefs, versionNeeds, versionSymbols, type ElfSymbol, type VerDef, type VerNeed, type VernAux } from './symbols.js';
