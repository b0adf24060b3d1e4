/**
 * `deno task crawl [--url URL | --file PATH] [--out data/countries.json] [--expect 193]`:
 * rebuilds the country taxonomy from a REST Countries v3.1–style source and prints a summary and
 * the diff against the cookbook's list. Offline: `--file ../shared/data/mledoze-countries.json`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { crawlCountries, CrawlError, DEFAULT_SOURCE_URL, summarizeCrawl } from "../crawl.ts";

const USAGE =
  `usage: deno task crawl [--url URL | --file PATH] [--out PATH] [--expect N] [--dry-run]

  --url URL     REST Countries v3.1-style endpoint (default ${DEFAULT_SOURCE_URL})
  --file PATH   read a local snapshot instead, e.g. ../shared/data/mledoze-countries.json
  --out PATH    where to write (default data/countries.json); written atomically
  --expect N    expected number of UN members (default 193)
  --dry-run     build and print the summary, write nothing`;

/** Parses flags, runs the crawl, prints the summary; exit code 1 on a crawl error, 2 on usage. */
export async function main(args: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        url: { type: "string" },
        file: { type: "string" },
        out: { type: "string", default: "data/countries.json" },
        expect: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : err}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.url !== undefined && values.file !== undefined) {
    console.error(`give --url or --file, not both\n${USAGE}`);
    return 2;
  }
  const expectedCount = values.expect === undefined ? undefined : Number(values.expect);
  if (expectedCount !== undefined && !(Number.isInteger(expectedCount) && expectedCount > 0)) {
    console.error(`--expect must be a positive integer\n${USAGE}`);
    return 2;
  }
  try {
    const result = await crawlCountries({
      source: values.file ?? values.url ?? DEFAULT_SOURCE_URL,
      out: values["dry-run"] ? undefined : values.out,
      expectedCount,
    });
    console.log(summarizeCrawl(result.data));
    console.log(result.written ? `wrote ${result.written}` : "dry run: nothing written");
    return 0;
  } catch (err) {
    if (err instanceof CrawlError) {
      console.error(err.message);
      if (err.stage === "fetch" && values.file === undefined) {
        console.error("offline? try: deno task crawl --file ../shared/data/mledoze-countries.json");
      }
      return 1;
    }
    throw err;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
