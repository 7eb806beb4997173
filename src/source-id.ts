// Which source this osv was built from: the sha256 of src/ (and package.json), put into every
// bundle by scripts/bundle-options.mjs. Caches of results (not only of data read from files)
// are keyed by it, so that a changed osv never takes an older one's answer. Undefined when osv
// runs from its TypeScript source (the tests): such caches are then not used.

declare const OSV_SOURCE_ID: string | undefined;

export const sourceId: string | undefined = typeof OSV_SOURCE_ID === 'string' ? OSV_SOURCE_ID : undefined;
