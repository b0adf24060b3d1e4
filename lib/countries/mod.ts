/**
 * Step 1, countries: the taxonomy of the 193 UN members in the cookbook's six continents, the
 * crawl that builds `data/countries.json`, and its schema.
 *
 * @module
 */
export * from "./taxonomy.ts";
export * from "./crawl.ts";
export * from "./schema.ts";
