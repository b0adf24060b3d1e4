/**
 * `deno task dataset`: writes seeded tuning and evaluation datasets and prints their statistics.
 *
 * ```sh
 * deno task dataset --rows 10000 --seed 7 --out train.csv [--format single-turn] [--order grouped] [--list cookbook] [--validate]
 * deno task dataset --eval --seed 7 --out eval.xlsx [--prompts 100] [--system "…"] [--exclude train.csv]
 * deno task dataset --sizes cookbook|50,100,… --seed 7 --out-dir DIR   # train_<size>.csv (nested) + eval.xlsx
 * ```
 * Mixes: `--country-mix 10:1,15:3,20:3,30:3 --continent-mix 2:1,3:1,4:1,5:1,6:1`.
 *
 * One tuning CSV (`--rows`) is drawn with `lib/sampling/` and written straight from the drawn
 * rows (byte for byte the tuning CSV of `generateTrainingSet`'s rows), its rows checked against
 * the cookbook's rule as drawn; `--validate` also reads the written file back and checks its text
 * with `validateRows`. Evaluation sets and `--sizes` make their rows' strings with
 * `lib/datasets/`, loaded only for them.
 *
 * @module
 */
import { join } from "node:path";
import {
  checkInput,
  checkWritable,
  choiceFlag,
  type FlagValues,
  intFlag,
  parseFlags,
  printUsage,
  runCli,
  UsageError,
} from "./args.ts";
import { DEFAULT_SEED, MAX_EVAL_PROMPTS, MAX_SEED, MAX_TUNING_ROWS } from "../limits.ts";
import { TUNING_SIZES } from "../cookbook.ts";
import { getTaxonomy } from "../countries/mod.ts";
import type { DatasetStats } from "../run/mod.ts";
import {
  DatasetOptionsError,
  drawnProblems,
  drawnStats,
  drawnTuningCsvChunks,
  drawTrainingSet,
  type Mix,
} from "../sampling/mod.ts";
import { writeFileAtomic } from "../io/mod.ts";

const USAGE = `usage:
  deno task dataset --rows N [--seed S] --out FILE.csv [--format text-completion|single-turn]
                    [--order shuffled|grouped] [--list un|cookbook] [--country-mix 10:1,15:3,…]
                    [--continent-mix 2:1,…] [--validate]
                    (--validate: read the written file back and check every row's text)
  deno task dataset --eval [--seed S] --out FILE.xlsx [--prompts 100] [--system TEXT]
                    [--exclude train.csv …] [--list …] [--country-mix …] [--continent-mix …]
  deno task dataset --sizes cookbook|50,100,… [--seed S] --out-dir DIR [training options]
                    (writes nested train_<size>.csv and an eval.xlsx that shares no prompt with them)
  --seed S: the dataset seed, a whole number 0 … 4294967295 (default: ${DEFAULT_SEED})`;

/**
 * `--seed`, as the experiment spec's field reads it: the same range and default as `reproduce`.
 * A plain whole number in range is taken as it is; anything else is checked by the spec's own
 * schema (loaded only then), which names what is wrong.
 */
async function seedFlag(text: string | undefined): Promise<number> {
  if (text === undefined) return DEFAULT_SEED;
  if (/^\s*\d+\s*$/.test(text) && Number(text) <= MAX_SEED) return Number(text);
  const field = (await import("../run/mod.ts")).RUN_CONFIG_FIELDS.seed;
  const parsed = field.schema.safeParse(field.flag.parse(text));
  if (!parsed.success) throw new UsageError(`--seed ${text}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** The checked flags. */
interface Flags {
  rows?: number;
  seed: number;
  out?: string;
  "out-dir"?: string;
  sizes?: number[];
  eval: boolean;
  validate: boolean;
  prompts?: number;
  system?: string;
  exclude: string[];
  format: "text-completion" | "single-turn";
  order: "shuffled" | "grouped";
  list: "un" | "cookbook";
  "country-mix"?: Mix;
  "continent-mix"?: Mix;
}

/**
 * Checks and converts the parsed flags with `./args.ts`'s value checks, and `--seed` with the
 * experiment spec's own (one range and one default for every command); a bad value is a
 * {@link UsageError} naming it.
 */
async function checkFlags(values: FlagValues<typeof OPTIONS>): Promise<Flags> {
  const nonEmpty = (flag: "out" | "out-dir", what: string) => {
    if (values[flag] === "") throw new UsageError(`--${flag} : expected ${what}`);
    return values[flag];
  };
  const mix = (flag: "country-mix" | "continent-mix"): Mix | undefined => {
    const text = values[flag];
    if (text === undefined) return undefined;
    if (!/^\s*\d+:\d+(\s*,\s*\d+:\d+)*\s*$/.test(text)) {
      throw new UsageError(`--${flag} ${text}: expected value:weight,…`);
    }
    const out: Record<number, number> = {};
    for (const part of text.split(",")) {
      const [v, w] = part.split(":").map((x) => Number(x.trim()));
      out[v] = w;
    }
    return out;
  };
  const sizes = (text: string | undefined): number[] | undefined => {
    if (text === undefined) return undefined;
    if (text === "cookbook") return [...TUNING_SIZES];
    const list = text.split(",").map((x) => Number(x.trim()));
    if (list.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new UsageError(
        `--sizes ${text}: expected "cookbook" or sizes like 50,100, got ${text}`,
      );
    }
    if (list.some((n) => n > MAX_TUNING_ROWS)) {
      throw new UsageError(
        `--sizes ${text}: a tuning set has at most ${MAX_TUNING_ROWS.toLocaleString("en")} rows`,
      );
    }
    return list;
  };
  return {
    rows: intFlag("rows", values.rows, {
      limit: { max: MAX_TUNING_ROWS, why: "rows in one tuning set" },
    }),
    seed: await seedFlag(values.seed),
    out: nonEmpty("out", "a file name"),
    "out-dir": nonEmpty("out-dir", "a folder"),
    sizes: sizes(values.sizes),
    eval: values.eval === true,
    validate: values.validate === true,
    prompts: intFlag("prompts", values.prompts, {
      limit: { max: MAX_EVAL_PROMPTS, why: "the rows of one XLSX sheet" },
    }),
    system: values.system,
    exclude: values.exclude ?? [],
    format: choiceFlag("format", values.format, ["text-completion", "single-turn"] as const) ??
      "text-completion",
    order: choiceFlag("order", values.order, ["shuffled", "grouped"] as const) ?? "shuffled",
    list: choiceFlag("list", values.list, ["un", "cookbook"] as const) ?? "un",
    "country-mix": mix("country-mix"),
    "continent-mix": mix("continent-mix"),
  };
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** A plain-text summary of {@link DatasetStats} for the terminal. */
export function formatStats(
  label: string,
  s: DatasetStats,
  validation?: { problems: number; of: string },
): string {
  const lines = [`${label}: ${s.rows} rows`];
  lines.push(
    `  countries/row   ${
      s.byCountryCount.map((m) => `${m.value}: ${m.rows} (${pct(m.share)})`).join("  ")
    }`,
  );
  lines.push(
    `  continents/row  ${
      s.byContinentCount.map((m) => `${m.value}: ${m.rows} (${pct(m.share)})`).join("  ")
    }`,
  );
  const ks = [...new Set(s.cells.map((c) => c.continentCount))].sort((a, b) => a - b);
  const ns = [...new Set(s.cells.map((c) => c.countryCount))].sort((a, b) => a - b);
  lines.push(`  rows by cell    ${ks.map((k) => `k=${k}`.padStart(7)).join("")}`);
  for (const n of ns) {
    const cells = ks.map((k) =>
      String(s.cells.find((c) => c.countryCount === n && c.continentCount === k)?.rows ?? 0)
        .padStart(7)
    );
    lines.push(`  ${`n=${n}`.padStart(14)}${cells.join("")}`);
  }
  const cs = (c: { min: number; mean: number; max: number }) =>
    `${c.min}–${c.max} (mean ${c.mean.toFixed(1)})`;
  lines.push(
    `  chars/row       text ${cs(s.textChars)}` +
      (s.completionChars ? `, completion ${cs(s.completionChars)}` : ""),
  );
  const never = s.coverage.neverUsed.length ? s.coverage.neverUsed.join(", ") : "none";
  lines.push(
    `  coverage        ${s.coverage.used}/${s.coverage.countries} countries (${s.coverage.list}); never asked: ${never}`,
  );
  lines.push(
    `  duplicates      ${s.duplicates.rows} rows repeat ${s.duplicates.sets} country sets`,
  );
  if (validation) {
    lines.push(`  validation      ${validation.problems} problems (${validation.of})`);
  }
  return lines.join("\n");
}

function trainingOptions(f: Flags) {
  return {
    seed: f.seed,
    order: f.order,
    taxonomy: getTaxonomy(f.list),
    countryMix: f["country-mix"],
    continentMix: f["continent-mix"],
  };
}

/** The readable generator and the sheet writers, loaded only by the commands that need them. */
type DatasetModule = typeof import("../datasets/mod.ts");

async function writeEval(
  ds: DatasetModule,
  f: Flags,
  out: string,
  exclude: (readonly string[])[],
  excludeLabel: string | null,
) {
  const taxonomy = getTaxonomy(f.list);
  const prompts = ds.generateEvalSet({
    seed: f.seed,
    prompts: f.prompts,
    system: f.system,
    taxonomy,
    exclude,
    countryMix: f["country-mix"],
    continentMix: f["continent-mix"],
  });
  await ds.writeEvalSheet(out, prompts);
  console.log(formatStats(out, ds.datasetStats(prompts, { taxonomy })));
  if (excludeLabel === null) {
    console.log("  overlap         not checked: no training file given (--exclude train.csv)");
    return 0;
  }
  const overlap = ds.checkOverlap(prompts, exclude.map((countries) => ({ countries })));
  console.log(
    `  overlap         ${overlap.overlapping} of ${overlap.evalPrompts} prompts ask a set from ` +
      `${excludeLabel} (${overlap.trainingRows} rows)`,
  );
  return overlap.overlapping;
}

/** `--sizes`: nested training sets and an evaluation set that shares no prompt with them. */
async function writeSizes(ds: DatasetModule, f: Flags, sizes: number[]): Promise<number> {
  const taxonomy = getTaxonomy(f.list);
  const dir = f["out-dir"];
  if (!dir) throw new UsageError("--sizes needs --out-dir");
  await Deno.mkdir(dir, { recursive: true });
  const sets = ds.generateNestedTrainingSets(sizes, trainingOptions(f));
  for (const [size, rows] of sets) {
    const path = join(dir, `train_${size}.csv`);
    await ds.writeTuningCsv(path, rows, { format: f.format });
    const problems = ds.validateRows(rows, { taxonomy }).length;
    console.log(
      formatStats(path, ds.datasetStats(rows, { taxonomy }), { problems, of: "every row's text" }),
    );
  }
  const largest = sets.get(Math.max(...sets.keys()))!;
  const overlap = await writeEval(
    ds,
    f,
    join(dir, "eval.xlsx"),
    largest.map((r) => r.countries),
    "the training sets",
  );
  return overlap === 0 ? 0 : 1;
}

/**
 * `--rows`: one tuning CSV written from the drawn rows, checked against the rule as drawn, and
 * with `--validate` the written file read back and its text checked.
 */
async function writeTraining(f: Flags, out: string, rows: number): Promise<number> {
  const set = drawTrainingSet({ rows, ...trainingOptions(f) });
  // Each chunk of the CSV is written while the next one is made, and the rows are checked and
  // counted while the file is synced to disk.
  let problems = 0;
  let stats!: DatasetStats;
  await writeFileAtomic(out, drawnTuningCsvChunks(set, f.format), {
    whileSyncing: () => {
      problems = drawnProblems(set).length;
      stats = drawnStats(set);
    },
  });
  let of = "the cookbook's rule on the drawn rows; --validate also checks the file's text";
  if (f.validate) {
    const ds: DatasetModule = await import("../datasets/mod.ts");
    const written = (await ds.readTuningCsv(out)).rows;
    const checked = written.map((r) => ({ id: `row ${r.row}`, ...r }));
    problems += ds.validateRows(checked, { taxonomy: trainingOptions(f).taxonomy }).length;
    of = `the rule on the drawn rows, and the text of the ${written.length} rows read back`;
  }
  console.log(formatStats(out, stats, { problems, of }));
  return problems === 0 ? 0 : 1;
}

async function run(f: Flags): Promise<number> {
  if (f.sizes) return await writeSizes(await import("../datasets/mod.ts"), f, f.sizes);
  if (!f.out) throw new UsageError("--out is required");
  if (f.eval) {
    if (!/\.(xlsx|csv)$/i.test(f.out)) {
      throw new UsageError(`--out ${f.out}: the evaluation set is written as .xlsx or .csv`);
    }
    const ds: DatasetModule = await import("../datasets/mod.ts");
    const exclude: (readonly string[])[] = [];
    for (const path of f.exclude) {
      for (const row of (await ds.readTuningCsv(path)).rows) {
        exclude.push(ds.countriesFromText(row.text));
      }
    }
    const overlap = await writeEval(
      ds,
      f,
      f.out,
      exclude,
      f.exclude.length ? f.exclude.join(", ") : null,
    );
    return overlap === 0 ? 0 : 1;
  }
  if (f.rows === undefined) throw new UsageError("--rows is required (or --eval, or --sizes)");
  return await writeTraining(f, f.out, f.rows);
}

const OPTIONS = {
  rows: { type: "string" },
  seed: { type: "string" },
  out: { type: "string" },
  "out-dir": { type: "string" },
  sizes: { type: "string" },
  eval: { type: "boolean" },
  validate: { type: "boolean" },
  prompts: { type: "string" },
  system: { type: "string" },
  exclude: { type: "string", multiple: true },
  format: { type: "string" },
  order: { type: "string" },
  list: { type: "string" },
  "country-mix": { type: "string" },
  "continent-mix": { type: "string" },
} as const;

/** Parses and checks the flags, then writes the datasets; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const values = parseFlags(args, OPTIONS);
  if (values.help) return printUsage(USAGE);
  const f = await checkFlags(values);
  if (f.out !== undefined) await checkWritable("out", f.out);
  for (const path of f.exclude) await checkInput("exclude", path);
  try {
    return await run(f);
  } catch (e) {
    // SheetError comes from lib/datasets/sheets.ts, loaded only by the commands that read or write sheets.
    if (e instanceof DatasetOptionsError || (e instanceof Error && e.name === "SheetError")) {
      console.error(`dataset: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) await runCli("dataset", USAGE, main);
