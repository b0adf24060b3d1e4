/**
 * The zod schemas of `data/countries.json`: what `deno task crawl` checks before it writes the
 * file, and what the tests check the committed file against. The taxonomy (`lib/countries/`)
 * loads the file as part of the code, without them; what it reads is its `CountriesFile`, which
 * every file these schemas accept is.
 *
 * @module
 */
import { z } from "zod";
import { CONTINENTS } from "../cookbook.ts";
import type { CountriesFile } from "../countries/mod.ts";

const ContinentSchema = z.enum(CONTINENTS);

/** zod schema of one country record in `data/countries.json`. */
export const CountryRecordSchema = z.object({
  code: z.string().regex(/^[A-Z]{2}$/),
  name: z.string().min(1),
  nameEn: z.string().min(1),
  continent: ContinentSchema,
  aliases: z.array(z.string().min(1)),
  inCookbook: z.boolean(),
});

/** zod schema of one non-member record in `data/countries.json`. */
export const NonMemberRecordSchema = z.object({
  code: z.string().regex(/^[A-Z]{2}$/),
  name: z.string().min(1),
  nameEn: z.string().min(1),
  status: z.enum(["observer", "non-member"]),
  aliases: z.array(z.string().min(1)),
});

/**
 * zod schema of the parts of `data/countries.json` the taxonomy reads (other keys are allowed):
 * what it accepts is a `CountriesFile` (checked when this compiles).
 */
export const CountriesFileSchema = z.looseObject({
  countries: z.array(CountryRecordSchema).min(1),
  nonMembers: z.array(NonMemberRecordSchema),
  droppedAliases: z.array(z.object({ alias: z.string(), codes: z.array(z.string()) })),
}) satisfies z.ZodType<CountriesFile>;
