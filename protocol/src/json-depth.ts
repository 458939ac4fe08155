/**
 * @module json-depth
 * Nesting depth of a parsed JSON value, counted without recursion (a 10,000-deep `params` object
 * once passed validation, then overflowed the stack wherever it was serialised: a permanent 500).
 */

/** True when no array or object in `value` is nested deeper than `max` levels. */
export function depthWithin(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return false;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return true;
}

/** The deepest nesting free-form fields (params) may have. */
export const MAX_JSON_DEPTH = 32;
