import { ConfigurationError } from './errors.js';

/** A numeric setting from the environment, or the fallback when it is unset, not a number or below `min`. */
export function envNumber(name: string, fallback: number, min: number): number {
  const value = Number(process.env[name]);
  return process.env[name] !== undefined && Number.isFinite(value) && value >= min ? value : fallback;
}

/**
 * A whole-number setting that must be right: unset or blank gives undefined (the caller's default),
 * anything but a whole number from `min` to `max` is a ConfigurationError naming the variable.
 */
export function wholeNumberSetting(name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new ConfigurationError(`${name} must be a whole number ${range} (it is "${raw}")`);
  }
  return value;
}
