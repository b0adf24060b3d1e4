/**
 * The built-in tasks: `countries` (the cookbook's task: 193 UN members into six continents, with
 * the cookbook's exact templates, so its datasets are those of `../dataset.ts` byte for byte) and
 * `elements` (118 chemical elements into their group blocks, from the npm package
 * `periodic-table`, ISC; see `data/elements/README.md`).
 *
 * @module
 */
import { COMPLETION_PREFIX, LIST_SEPARATOR, TEXT_PREFIX } from "../cookbook.ts";
import { getTaxonomy } from "../countries/mod.ts";
import elements from "../../data/elements/elements.json" with { type: "json" };
import {
  type BuiltinTaxonomyName,
  type TaxonomyTaskSpec,
  TaxonomyTaskSpecSchema,
} from "../run/mod.ts";
import { buildTaxonomy, type TaskTaxonomy } from "./taxonomy.ts";

/** The built-in task specs, by name. */
export const BUILTIN_TASKS: Readonly<Record<BuiltinTaxonomyName, TaxonomyTaskSpec>> = {
  countries: TaxonomyTaskSpecSchema.parse({
    kind: "taxonomy",
    name: "countries",
    labels: { item: "국가", group: "대륙" },
    taxonomy: { builtin: "countries" },
    templates: { prompt: TEXT_PREFIX, completion: COMPLETION_PREFIX, separator: LIST_SEPARATOR },
  }),
  elements: TaxonomyTaskSpecSchema.parse({
    kind: "taxonomy",
    name: "elements",
    labels: { item: "원소", group: "계열" },
    taxonomy: { builtin: "elements" },
  }),
};

const cache = new Map<BuiltinTaxonomyName, TaskTaxonomy>();

/**
 * A built-in taxonomy. `countries` is the country taxonomy's 193 members in its order (grouped by
 * continent in the cookbook's order), their Korean aliases and English names as aliases.
 */
export function builtinTaxonomy(name: BuiltinTaxonomyName): TaskTaxonomy {
  let t = cache.get(name);
  if (!t) {
    if (name === "countries") {
      t = buildTaxonomy(
        getTaxonomy("un").countries.map((c) => ({
          item: c.name,
          group: c.continent,
          aliases: [...c.aliases, c.nameEn],
        })),
        { name },
      );
    } else {
      t = buildTaxonomy(elements.entries, { name });
    }
    cache.set(name, t);
  }
  return t;
}
