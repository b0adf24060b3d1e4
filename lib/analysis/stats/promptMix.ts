/**
 * How an evaluation prompt count splits over the evaluation set's crossed mix cells (country
 * count × continent count), and the sentence the run log and the report say about it.
 *
 * @module
 */
import { apportion, crossMix } from "../../datasets/generator.ts";
import { CONTINENT_MIX, EVAL_COUNTRY_MIX } from "../../cookbook.ts";

/** How a prompt count splits over the evaluation set's crossed mix cells. */
export interface PromptMix {
  prompts: number;
  /** Crossed cells (country count × continent count; the cookbook's 4 × 5 = 20). */
  cells: number;
  /** Whether every cell gets the same number of prompts. */
  exact: boolean;
  /** The smallest and largest prompts per cell. */
  perCell: [number, number];
  /** One sentence for the report saying how the prompts were split. */
  note: string;
}

/**
 * Splits `prompts` over the crossed cells of the evaluation mixes (default: the cookbook's
 * 10/15/20/30 countries × 2–6 continents) the way the evaluation set is drawn: exactly when the
 * count is a multiple of the cells' weights, otherwise by largest remainder, which the note says.
 */
export function promptMix(
  prompts: number,
  countryMix: Readonly<Record<number, number>> = EVAL_COUNTRY_MIX,
  continentMix: Readonly<Record<number, number>> = CONTINENT_MIX,
): PromptMix {
  if (!Number.isInteger(prompts) || prompts <= 0) {
    throw new RangeError(`prompts must be a positive whole number, got ${prompts}`);
  }
  const cells = crossMix(countryMix, continentMix);
  const weights = cells.map((c) => c.weight);
  const counts = apportion(prompts, weights);
  const total = weights.reduce((a, b) => a + b, 0);
  const exact = counts.every((n, i) => n * total === prompts * weights[i]);
  const perCell: [number, number] = [Math.min(...counts), Math.max(...counts)];
  const note = exact
    ? `${prompts} prompts split exactly over the ${cells.length} country-count × continent-count ` +
      `cells (${perCell[0] === perCell[1] ? perCell[0] : `${perCell[0]}–${perCell[1]}`} each).`
    : `${prompts} prompts are not a multiple of the ${cells.length} cells' weights (${total}): ` +
      `cells get ${perCell[0]}–${perCell[1]} prompts by largest remainder, so the country-count ` +
      `and continent-count shares differ from the cookbook's mix by up to one prompt per cell.`;
  return { prompts, cells: cells.length, exact, perCell, note };
}
