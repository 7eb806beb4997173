// The schemas' validators as ajv standalone code, dist/validate-schemas.cjs, which
// src/config/validators.ts loads instead of compiling the schemas at every start. Generated
// here, into the package itself, and never at run time into a cache; with ajv's runtime helpers
// bundled in (validators-bundle.mjs). Run by `npm run build` after tsc.

import { writeFileSync } from 'node:fs';
import { generateValidators, VALIDATORS_FILE } from '../dist/config/validators.js';
import { bundleValidators } from './validators-bundle.mjs';

writeFileSync(VALIDATORS_FILE, await bundleValidators(generateValidators()));
