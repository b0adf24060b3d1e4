/**
 * Step 1, the crawl behind `deno task crawl`: builds `data/countries.json` (the file the taxonomy
 * of `lib/countries/` reads) from a country source, checked against the file's zod schemas.
 *
 * @module
 */
export * from "./crawl.ts";
export * from "./schema.ts";
