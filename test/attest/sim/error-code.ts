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

/** The same for an async verification. */
export async function codeOfAsync(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'accepted';
  } catch (error) {
    if (error instanceof ConfcomError) return error.code;
    throw error;
  }
}
