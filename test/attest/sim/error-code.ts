/** Test helper: runs a verification and returns the ConfcomError code it throws, or 'accepted'. */
import { ConfcomError } from '../../../src/core/errors.js';

export function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    if (error instanceof ConfcomError) return error.code;
    throw error;
  }
}
