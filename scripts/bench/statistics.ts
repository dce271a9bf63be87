/** The bench's figures: one definition of each, so every part reports alike. */

/** The value at rank p (0..1) of the sorted values, no interpolation; NaN for none. */
export const percentile = (values: number[], p: number): number =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? Number.NaN;

/** The upper middle value for an even count, as percentile(values, 0.5). */
export const median = (values: number[]): number => percentile(values, 0.5);

/** How many times b a is, as `1.23x`. */
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

/** A duration in milliseconds: two decimals under 10 ms, seconds from 1,000 ms. */
export const ms = (value: number): string =>
  value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 2 : 1)} ms`;
