// The schema's issues from a parse or set that should fail; [] when it passed.
import { SchemaError } from '../../../firmware/core/schema.js';

export const issuesOf = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof SchemaError) return e.issues;
    throw e;
  }
  return [];
};
