/**
 * Argument checks shared by every public function: no argument is silently ignored.
 * A call with more positional arguments than the function takes, or an options object
 * with a key the function does not know, throws `ArgumentError` naming the function,
 * the argument and the accepted form.
 */
import { ArgumentError, formatValue } from '../errors.js';

/**
 * Throws when a function got more positional arguments than it takes.
 *
 * @example
 * ```ts no-run internal helper
 * function sum(...args: unknown[]) { checkArgCount('sum', args.length, 2, 'sum(x, { axis, keepdims, dtype })'); }
 * ```
 */
export function checkArgCount(fn: string, got: number, max: number, usage: string): void {
  if (got > max) {
    throw new ArgumentError(`${fn}: takes at most ${max} argument${max === 1 ? '' : 's'}, got ${got}; call it as ${usage}`);
  }
}

/**
 * Throws when an options object is not a plain object or has a key outside `allowed`;
 * returns it typed (or an empty object for `undefined`).
 *
 * @example
 * ```ts no-run internal helper
 * const { axis, keepdims } = checkOptions('sum', options, ['axis', 'keepdims', 'dtype']);
 * ```
 */
export function checkOptions<T extends object>(fn: string, options: T | undefined, allowed: readonly (keyof T & string)[]): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ArgumentError(`${fn}: options must be an object like { ${allowed.join(', ')} }, got ${formatValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!(allowed as readonly string[]).includes(key)) {
      throw new ArgumentError(`${fn}: unknown option '${key}'; the options are { ${allowed.join(', ')} }`);
    }
  }
  return options;
}
