// `--run NAME`: the name must exist; a typo gets a suggestion.

import { OsvError } from '../diagnostics/error.js';
import { err, ok, type Result } from '../diagnostics/result.js';
import { selectRun, type Config, type RunConfig } from './types.js';
import { suggestion } from './suggest.js';

export function checkRunName(config: Config, name: string | undefined): Result<{ name: string; run: RunConfig }, OsvError> {
  const picked = selectRun(config, name);
  if (picked) return ok(picked);
  const names = Object.keys(config.runs);
  const runsAt = config.sources.get('runs');
  return err(
    new OsvError({
      code: 'config.run-unknown',
      message: `unknown run "${name}"${suggestion(name ?? '', names)}`,
      hint: names.length ? `runs in ${config.file}: ${['default', ...names].join(', ')}` : `${config.file} defines no named runs (add them under runs:)`,
      ...(runsAt ? { source: runsAt } : {}),
      exitCode: 2,
    }),
  );
}
