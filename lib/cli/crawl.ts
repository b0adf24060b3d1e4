/**
 * `deno task crawl [--url URL | --file PATH] [--out data/countries.json] [--expect 193]`:
 * rebuilds the country taxonomy from a REST Countries v3.1–style source and prints a summary and
 * the diff against the cookbook's list. Offline: `--file data/mledoze-countries.json`.
 *
 * @module
 */
import { crawlCountries, CrawlError, DEFAULT_SOURCE_URL, summarizeCrawl } from "../crawl/mod.ts";
import { checkInput, intFlag, parseFlags, printUsage, runCli, UsageError } from "./args.ts";

const USAGE =
  `usage: deno task crawl [--url URL | --file PATH] [--out PATH] [--expect N] [--dry-run]

  --url URL     REST Countries v3.1-style endpoint (default ${DEFAULT_SOURCE_URL})
  --file PATH   read a local snapshot instead, e.g. data/mledoze-countries.json
  --out PATH    where to write (default data/countries.json); written atomically
  --expect N    expected number of UN members (default 193)
  --dry-run     build and print the summary, write nothing`;

const OPTIONS = {
  url: { type: "string" },
  file: { type: "string" },
  out: { type: "string" },
  expect: { type: "string" },
  "dry-run": { type: "boolean" },
} as const;

/**
 * Parses flags, runs the crawl, prints the summary; returns the exit code (1 on a crawl error).
 * A wrong flag throws a {@link UsageError}.
 */
export async function main(args: readonly string[]): Promise<number> {
  const values = parseFlags(args, OPTIONS);
  if (values.help) return printUsage(USAGE);
  if (values.url !== undefined && values.file !== undefined) {
    throw new UsageError("give --url or --file, not both");
  }
  const expectedCount = intFlag("expect", values.expect);
  if (values.file !== undefined) await checkInput("file", values.file);
  try {
    const result = await crawlCountries({
      source: values.file ?? values.url ?? DEFAULT_SOURCE_URL,
      out: values["dry-run"] ? undefined : values.out ?? "data/countries.json",
      expectedCount,
    });
    console.log(summarizeCrawl(result.data));
    console.log(result.written ? `wrote ${result.written}` : "dry run: nothing written");
    return 0;
  } catch (err) {
    if (err instanceof CrawlError) {
      console.error(`crawl: ${err.message}`);
      if (err.stage === "fetch" && values.file === undefined) {
        console.error("offline? try: deno task crawl --file data/mledoze-countries.json");
      }
      return 1;
    }
    throw err;
  }
}

if (import.meta.main) await runCli("crawl", USAGE, main);
