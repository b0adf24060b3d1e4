/**
 * The `--target` flag of the analysis commands: the error probability "rows needed" is estimated
 * for, written as a percentage (`2%`, `2`) or a fraction (`0.02`).
 *
 * @module
 */

/**
 * Parses a target error probability: `2%` and `2` mean 0.02, `0.02` means 0.02 (values below 1
 * are fractions). Returns an error message instead for anything outside (0, 100%).
 */
export function parseTarget(text: string): number | string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  if (!m) {
    return `--target takes a percentage like 2% or a fraction like 0.02, got ${
      JSON.stringify(text)
    }`;
  }
  const value = Number(m[1]);
  const fraction = m[2] === "%" || value >= 1 ? value / 100 : value;
  if (!(fraction > 0 && fraction < 1)) {
    return `--target must be above 0% and below 100%, got ${JSON.stringify(text)}`;
  }
  return fraction;
}
