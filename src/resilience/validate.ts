import { InvalidResilienceConfigError } from './errors.js';

// Gateway checks for the options of every class in this layer. Each throws
// InvalidResilienceConfigError naming the option, the bad value and what would be accepted, so the
// message carries the fix.

function show(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value);
}

/** `value` must be a finite number >= `min` (default 0). */
export function checkNumber(owner: string, option: string, value: unknown, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidResilienceConfigError(`${owner}: ${option} must be a finite number >= ${min}, got ${show(value)}`);
  }
  return value;
}

/** `value` must be a safe integer in [`min`, `max`]. */
export function checkInteger(owner: string, option: string, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidResilienceConfigError(`${owner}: ${option} must be an integer in [${min}, ${max}], got ${show(value)}`);
  }
  return value;
}

/** `value` must be one of `choices`. */
export function checkChoice<T extends string>(owner: string, option: string, value: unknown, choices: readonly T[]): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new InvalidResilienceConfigError(`${owner}: ${option} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${show(value)}`);
  }
  return value as T;
}

/** `value` must be a function (or undefined when `optional`). */
export function checkFunction(owner: string, option: string, value: unknown): void {
  if (typeof value !== 'function') {
    throw new InvalidResilienceConfigError(`${owner}: ${option} must be a function, got ${typeof value}`);
  }
}

/** `value` must be true or false. */
export function checkBoolean(owner: string, option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidResilienceConfigError(`${owner}: ${option} must be true or false, got ${show(value)}`);
  }
  return value;
}
