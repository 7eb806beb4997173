// Where osv-up's own files live (schemas/, templates/): two levels above this module, both
// when run from src/ (tsx, vitest) and from dist/ (the built CLI).

import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
export const schemasDir = path.join(packageRoot, 'schemas');
export const templatesDir = path.join(packageRoot, 'templates');
export const mainSchemaPath = path.join(schemasDir, 'osv.schema.json');
export const moduleSchemaPath = path.join(schemasDir, 'osv.module.schema.json');
