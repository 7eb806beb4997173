// The tool's version, from package.json: `osv --version`, and a part of every build key (a new
// version may write other bytes).

import { createRequire } from 'node:module';

export const toolVersion = (): string => (createRequire(import.meta.url)('../package.json') as { version: string }).version;
