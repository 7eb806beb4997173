// The OsvError a promise must reject with (a test fails if it resolves, or rejects otherwise).
import { expect } from 'vitest';
import { OsvError } from '../../src/diagnostics/error.js';

export async function osvFailure(p: Promise<unknown>): Promise<OsvError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OsvError);
    return e as OsvError;
  }
  throw new Error('expected a failure');
}
