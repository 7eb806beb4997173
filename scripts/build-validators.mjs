// The schemas' validators as ajv standalone code, dist/validate-schemas.cjs, which
// src/config/validators.ts loads instead of compiling the schemas at every start. Generated
// here, into the package itself, and never at run time into a cache. Run by `npm run build`
// after tsc.

import { writeFileSync } from 'node:fs';
import { generateValidators, VALIDATORS_FILE } from '../dist/config/validators.js';

writeFileSync(VALIDATORS_FILE, generateValidators());
