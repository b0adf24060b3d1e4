/**
 * Step 1, countries: the taxonomy of the 193 UN members in the cookbook's six continents, read
 * from `data/countries.json` (which the crawl of `lib/crawl/` builds). Every stage reads it; it
 * loads no schema library.
 *
 * @module
 */
export * from "./taxonomy.ts";
