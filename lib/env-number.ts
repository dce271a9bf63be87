/** A numeric setting from the environment, or the fallback when it is unset, not a number or below `min`. */
export function envNumber(name: string, fallback: number, min: number): number {
  const value = Number(process.env[name]);
  return process.env[name] !== undefined && Number.isFinite(value) && value >= min ? value : fallback;
}
