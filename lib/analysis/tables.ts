/**
 * Analysis of scored answers with nodejs-polars: per model × tuning size, the summed missing /
 * misclassified / extended counts and the error probability (share of answers with `hasError`)
 * with a 95% Wilson interval; the same by country count and by continent count. Also loads the
 * cookbook's published tables (`data/cookbook/published_<model>.csv`) into the same shape, and
 * renders records or frames as escaped HTML / plain-text tables.
 *
 * Outputs are plain records (`SizeSummary`, `GroupSummary`) so charts and the report need no
 * polars.
 *
 * @module
 */

import pl from "nodejs-polars";
import stringWidth from "string-width";
import { resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { parse } from "csv-parse/sync";
import { z } from "zod";
import { BASE_MODELS } from "../cookbook.ts";
import { type Cell, htmlTable, type TableOptions } from "../io/mod.ts";
import {
  type GroupBy,
  type GroupSummary,
  GroupSummarySchema,
  type ScoredAnswer,
  type ScoreRow,
  scoreRow,
  ScoreRowSchema,
  type SizeSummary,
  SizeSummarySchema,
  type SummarySource,
} from "../run/mod.ts";

export type { GroupBy, GroupSummary, SizeSummary, SummarySource };

/** A tuning task's final train loss, joined onto {@link SizeSummary} rows. */
export interface TrainLossEntry {
  model: string;
  size: number;
  trainLoss: number | null;
}

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval for `errors` successes out of `n` trials (default 95%). Returns
 * `[NaN, NaN]` when `n` is 0.
 */
export function wilsonInterval(errors: number, n: number, z: number = Z95): [number, number] {
  if (!(n > 0)) return [NaN, NaN];
  const p = errors / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [
    errors <= 0 ? 0 : Math.max(0, center - half),
    errors >= n ? 1 : Math.min(1, center + half),
  ];
}

/** Polars types of the `scores.csv` columns, from {@link ScoreRowSchema}. */
const SCORE_DTYPES = Object.fromEntries(
  Object.entries(ScoreRowSchema.shape).map(([k, schema]) => [
    k,
    schema instanceof z.ZodBoolean ? pl.Bool : schema instanceof z.ZodString ? pl.Utf8 : pl.Int64,
  ]),
) as Record<keyof ScoreRow, pl.DataType>;

const SCORE_TEXT_COLUMNS = (Object.keys(SCORE_DTYPES) as (keyof ScoreRow)[]).filter((k) =>
  SCORE_DTYPES[k] === pl.Utf8
);

/**
 * A polars frame of scored answers, one row per answer (its `scores.csv` line, {@link scoreRow}),
 * with fixed column types (also when empty).
 */
export function scoresFrame(answers: readonly ScoredAnswer[]): pl.DataFrame {
  const columns = Object.keys(SCORE_DTYPES) as (keyof ScoreRow)[];
  const rows = answers.map(scoreRow);
  return pl.DataFrame(
    Object.fromEntries(
      columns.map((c) => [c, pl.Series(c, rows.map((r) => r[c]), SCORE_DTYPES[c])]),
    ),
  );
}

/**
 * Reads a run's `scores.csv` into a frame (polars reads the file itself, so no JS object per
 * answer is made); text cells neutralised against formula injection get their text back.
 */
export function readScoresFrame(path: string): pl.DataFrame {
  const df = pl.readCSV(path, { dtypes: SCORE_DTYPES });
  return df.withColumns(
    ...SCORE_TEXT_COLUMNS.map((c) => pl.col(c).str.replace("^'", "").alias(c)),
  );
}

function toFrame(input: readonly ScoredAnswer[] | pl.DataFrame): pl.DataFrame {
  return Array.isArray(input) ? scoresFrame(input) : (input as pl.DataFrame);
}

/** Sort key for models: the cookbook's base models first, in its order, then by name. */
function modelRank(model: string): number {
  const i = (BASE_MODELS as readonly string[]).indexOf(model);
  return i < 0 ? BASE_MODELS.length : i;
}

function byModelThen<T extends { model: string; size: number }>(
  a: T,
  b: T,
  ...rest: ((a: T, b: T) => number)[]
): number {
  const d = modelRank(a.model) - modelRank(b.model) ||
    (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) || a.size - b.size;
  if (d) return d;
  for (const f of rest) {
    const r = f(a, b);
    if (r) return r;
  }
  return 0;
}

/**
 * The summary frame per model × size: `answers`, `errors`, `missing`, `misclassified`,
 * `extended` (sums) and `errorRate`, sorted by model and size.
 */
export function sizeSummaryFrame(input: readonly ScoredAnswer[] | pl.DataFrame): pl.DataFrame {
  return toFrame(input)
    .groupBy(["model", "size"])
    .agg(
      pl.len().cast(pl.Int64).alias("answers"),
      pl.col("hasError").cast(pl.Int64).sum().alias("errors"),
      pl.col("missing").sum().alias("missing"),
      pl.col("misclassified").sum().alias("misclassified"),
      pl.col("extended").sum().alias("extended"),
    )
    .withColumns(
      pl.col("errors").cast(pl.Float64).div(pl.col("answers").cast(pl.Float64)).alias("errorRate"),
    )
    .sort(["model", "size"]);
}

/**
 * Per model × tuning size: summed counts, error probability and its Wilson 95% interval, with the
 * train loss joined from `trainLoss` (null where absent; base models have none). Sorted with the
 * cookbook's base models first, then by size.
 */
export function summarizeBySize(
  input: readonly ScoredAnswer[] | pl.DataFrame,
  options: { trainLoss?: Iterable<TrainLossEntry>; source?: SummarySource } = {},
): SizeSummary[] {
  const losses = new Map<string, number | null>();
  for (const t of options.trainLoss ?? []) losses.set(`${t.model}\u0000${t.size}`, t.trainLoss);
  return sizeSummaryFrame(input).toRecords().map((r) =>
    SizeSummarySchema.parse({
      source: options.source ?? "this run",
      model: String(r.model),
      size: Number(r.size),
      trainLoss: losses.get(`${r.model}\u0000${Number(r.size)}`) ?? null,
      ...errorRateOf(r),
      missing: Number(r.missing),
      misclassified: Number(r.misclassified),
      extended: Number(r.extended),
    })
  ).sort((a, b) => byModelThen(a, b));
}

/** A summary frame row's answers, errors, error rate and the rate's Wilson 95% interval. */
function errorRateOf(r: Record<string, unknown>) {
  const answers = Number(r.answers);
  const errors = Number(r.errors);
  const [errorLow, errorHigh] = wilsonInterval(errors, answers);
  return { answers, errors, errorRate: Number(r.errorRate), errorLow, errorHigh };
}

/** The frame per model × size × `by` value: `answers`, `errors`, `errorRate`. */
export function groupSummaryFrame(
  input: readonly ScoredAnswer[] | pl.DataFrame,
  by: GroupBy,
): pl.DataFrame {
  return toFrame(input)
    .groupBy(["model", "size", by])
    .agg(
      pl.len().cast(pl.Int64).alias("answers"),
      pl.col("hasError").cast(pl.Int64).sum().alias("errors"),
    )
    .withColumns(
      pl.col("errors").cast(pl.Float64).div(pl.col("answers").cast(pl.Float64)).alias("errorRate"),
    )
    .sort(["model", "size", by]);
}

/**
 * Per model × tuning size × country count (or continent count): error probability and its Wilson
 * 95% interval. Sorted by model, size, then value.
 */
export function summarizeByGroup(
  input: readonly ScoredAnswer[] | pl.DataFrame,
  by: GroupBy,
  options: { source?: SummarySource } = {},
): GroupSummary[] {
  return groupSummaryFrame(input, by).toRecords().map((r) =>
    GroupSummarySchema.parse({
      source: options.source ?? "this run",
      model: String(r.model),
      size: Number(r.size),
      by,
      value: Number(r[by]),
      ...errorRateOf(r),
    })
  ).sort((a, b) => byModelThen(a, b, (x, y) => x.value - y.value));
}

/** Where one scored answer's journal line is: its label's journal, the prompt index, the repeat. */
export interface AnswerKey {
  label: string;
  index: number;
  repeat: number;
}

/**
 * The worst answers per tuning size, so the untuned base model (size 0) does not crowd out the
 * tuned sizes: sizes ascending; within each, the `perSize` answers with an error that have the
 * most missing + misclassified + extended, format errors before others with the same total, then
 * by label, prompt id and repeat (deterministic). Sizes with no error are left out.
 */
export function worstAnswerKeys(
  input: readonly ScoredAnswer[] | pl.DataFrame,
  perSize: number,
): AnswerKey[] {
  const total = pl.col("missing").add(pl.col("misclassified")).add(pl.col("extended"));
  const sorted = toFrame(input)
    .filter(pl.col("hasError"))
    .withColumns(total.alias("errorTotal"))
    .sort(
      ["size", "errorTotal", "formatError", "label", "promptId", "repeat"],
      [false, true, true, false, false, false],
    );
  const sizes = [...new Set(sorted.getColumn("size").toArray().map(Number))];
  return sizes.flatMap((size) =>
    sorted.filter(pl.col("size").eq(size)).head(perSize).toRecords().map((r) => ({
      label: String(r.label),
      index: Number(r.index),
      repeat: Number(r.repeat),
    }))
  );
}

/** Everything {@link analyze} computes for one set of scores. */
export interface Analysis {
  bySize: SizeSummary[];
  byCountryCount: GroupSummary[];
  byContinentCount: GroupSummary[];
}

/** Runs the three summaries over one frame. */
export function analyze(
  input: readonly ScoredAnswer[] | pl.DataFrame,
  options: { trainLoss?: Iterable<TrainLossEntry>; source?: SummarySource } = {},
): Analysis {
  const df = toFrame(input);
  return {
    bySize: summarizeBySize(df, options),
    byCountryCount: summarizeByGroup(df, "countryCount", options),
    byContinentCount: summarizeByGroup(df, "continentCount", options),
  };
}

// ---------------------------------------------------------------------------------------------
// The cookbook's published tables

/** Folder of the copied cookbook tables and charts (`data/cookbook/`). */
export const COOKBOOK_DATA_DIR: URL = new URL("../../data/cookbook/", import.meta.url);

/** Answers behind each published row: the cookbook's 100 evaluation prompts. */
export const PUBLISHED_ANSWERS = 100;

const publishedNumber = (what: string) =>
  z.string().trim().regex(/^\d[\d,]*$/, `${what}: expected a whole number`).transform((s) =>
    Number(s.replace(/,/g, ""))
  );

const PublishedRow = z.object({
  model: z.string().trim().min(1),
  sizeCell: z.string().trim().min(1),
  trainLoss: z.string().trim().transform((s, ctx) => {
    if (s === "-" || s === "") return null;
    const n = Number(s);
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: "custom", message: `train loss: not a number: ${JSON.stringify(s)}` });
      return z.NEVER;
    }
    return n;
  }),
  missing: publishedNumber("missing"),
  misclassified: publishedNumber("misclassified"),
  extended: publishedNumber("extended"),
  rate: z.string().trim().regex(/^\d+(\.\d+)?%$/, "error probability: expected like 85%")
    .transform((s) => Number(s.slice(0, -1)) / 100),
});

/** Parses a published size cell: the model's own name → 0, `50개 튜닝` / `1,000개 튜닝` → n. */
function publishedSize(cell: string, model: string): number | undefined {
  if (cell === model) return 0;
  const m = /^([\d,]+)\s*개/.exec(cell);
  return m ? Number(m[1].replace(/,/g, "")) : undefined;
}

/**
 * Parses one published table (CSV text as the cookbook's sheet exports it: two header rows, a
 * blank row per model, `50개 튜닝` / `"1,000개 튜닝"` sizes, the base row named after the model
 * with train loss `-`, rates like `85%`). Each row becomes a {@link SizeSummary} with source
 * `cookbook`, `answers` = 100, `errors` = round(rate × 100) and a NaN interval. Throws with the
 * file and line on anything unexpected.
 */
export function parsePublishedTable(text: string, fileName = "published table"): SizeSummary[] {
  const rows = parse(text, { bom: true, relax_column_count: true }) as string[][];
  if (rows.length < 3 || rows[0][0]?.trim() !== "Base Model") {
    throw new Error(`${fileName}: not a published cookbook table (no "Base Model" header)`);
  }
  const out: SizeSummary[] = [];
  for (let i = 2; i < rows.length; i++) {
    const cells = rows[i];
    if (!cells[1]?.trim()) continue; // the blank per-model row (and empty lines)
    const parsed = PublishedRow.safeParse({
      model: cells[0] ?? "",
      sizeCell: cells[1] ?? "",
      trainLoss: cells[2] ?? "",
      missing: cells[3] ?? "",
      misclassified: cells[4] ?? "",
      extended: cells[5] ?? "",
      rate: cells[6] ?? "",
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `${fileName}: line ${i + 1}, ${String(issue.path[0] ?? "")}: ${issue.message}`,
      );
    }
    const r = parsed.data;
    const size = publishedSize(r.sizeCell, r.model);
    if (size === undefined) {
      throw new Error(
        `${fileName}: line ${i + 1}: unknown tuning size ${JSON.stringify(r.sizeCell)}`,
      );
    }
    const errors = Math.round(r.rate * PUBLISHED_ANSWERS);
    out.push({
      source: "cookbook",
      model: r.model,
      size,
      trainLoss: r.trainLoss,
      answers: PUBLISHED_ANSWERS,
      errors,
      missing: r.missing,
      misclassified: r.misclassified,
      extended: r.extended,
      errorRate: errors / PUBLISHED_ANSWERS,
      errorLow: NaN,
      errorHigh: NaN,
    });
  }
  return out.sort((a, b) => byModelThen(a, b));
}

/** Loads one published table file (see {@link parsePublishedTable}). */
export async function loadPublishedTable(path: string | URL): Promise<SizeSummary[]> {
  const name = path instanceof URL ? path.pathname.split("/").pop()! : path;
  return parsePublishedTable(await Deno.readTextFile(path), name);
}

/**
 * Loads the cookbook's published tables for its base models (`published_<model>.csv` under `dir`,
 * default `data/cookbook/`), concatenated in the cookbook's model order.
 */
export async function loadPublishedTables(
  dir: string | URL = COOKBOOK_DATA_DIR,
): Promise<SizeSummary[]> {
  const base = dir instanceof URL ? dir : new URL(pathToFileURL(resolve(dir) + sep).href);
  const out: SizeSummary[] = [];
  for (const model of BASE_MODELS) {
    out.push(...await loadPublishedTable(new URL(`published_${model}.csv`, base)));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Tables for notebooks, the report and the terminal

/** Options for {@link recordsToHtml}. */
export interface RecordsTableOptions extends Omit<TableOptions, "numeric"> {
  /** Columns to show, in order (default: the keys of the first record). */
  columns?: readonly string[];
  /** Header text per column (default: the column name). */
  headers?: Readonly<Record<string, string>>;
  /** Formats a cell (default: numbers with up to 4 decimals, NaN/null as "–"). */
  format?: (value: unknown, column: string) => Cell;
}

function defaultCell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") {
    return Number.isInteger(value) ? value : Number(value.toFixed(4));
  }
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "boolean") return value ? "true" : "false";
  return String(value);
}

/** Renders records as an HTML table; every cell is escaped (see `lib/io/html.ts`). */
export function recordsToHtml(
  records: readonly Readonly<Record<string, unknown>>[],
  options: RecordsTableOptions = {},
): string {
  const columns = options.columns ?? Object.keys(records[0] ?? {});
  const format = options.format ?? defaultCell;
  const numeric = columns
    .map((c, i) => (records.some((r) => typeof r[c] === "number") ? i : -1))
    .filter((i) => i >= 0);
  return htmlTable(
    columns.map((c) => options.headers?.[c] ?? c),
    records.map((r) => columns.map((c) => format(r[c], c))),
    { ...options, numeric },
  );
}

/** Renders a polars frame as an escaped HTML table (see {@link recordsToHtml}). */
export function frameToHtml(df: pl.DataFrame, options: RecordsTableOptions = {}): string {
  return recordsToHtml(
    df.toRecords() as Record<string, unknown>[],
    { columns: df.columns, ...options },
  );
}

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "–");
const ci = (lo: number, hi: number) =>
  Number.isFinite(lo) && Number.isFinite(hi) ? `${pct(lo)}–${pct(hi)}` : "–";

/** Label of a tuning size as the cookbook writes it: the model for 0, else `1,000개 튜닝`. */
export function sizeLabel(model: string, size: number): string {
  return size === 0 ? model : `${size.toLocaleString("en-US")}개 튜닝`;
}

/** Display rows of size summaries (shared by the HTML and text tables). */
function sizeDisplayRows(rows: readonly SizeSummary[]): string[][] {
  return rows.map((r) => [
    r.source,
    r.model,
    sizeLabel(r.model, r.size),
    r.trainLoss === null ? "-" : r.trainLoss.toFixed(4),
    String(r.answers),
    String(r.missing),
    String(r.misclassified),
    String(r.extended),
    String(r.errors),
    pct(r.errorRate),
    ci(r.errorLow, r.errorHigh),
  ]);
}

const SIZE_HEADERS = [
  "source",
  "model",
  "튜닝 개수",
  "train loss",
  "answers",
  "누락 missing",
  "오분류 misclassified",
  "확장 extended",
  "errors",
  "오류 확률 error rate",
  "95% CI",
];

/** The size summary as an escaped HTML table (the cookbook's table, with intervals). */
export function sizeSummaryHtml(rows: readonly SizeSummary[], opts: TableOptions = {}): string {
  return htmlTable(SIZE_HEADERS, sizeDisplayRows(rows), {
    numeric: [3, 4, 5, 6, 7, 8, 9],
    ...opts,
  });
}

/** Group summaries as an escaped HTML table. */
export function groupSummaryHtml(rows: readonly GroupSummary[], opts: TableOptions = {}): string {
  const by = rows[0]?.by === "continentCount" ? "대륙 수 continents" : "국가 수 countries";
  return htmlTable(
    ["source", "model", "튜닝 개수", by, "answers", "errors", "오류 확률 error rate", "95% CI"],
    rows.map((r) => [
      r.source,
      r.model,
      sizeLabel(r.model, r.size),
      r.value,
      r.answers,
      r.errors,
      pct(r.errorRate),
      ci(r.errorLow, r.errorHigh),
    ]),
    { numeric: [3, 4, 5, 6], ...opts },
  );
}

/** Renders rows of cells as an aligned plain-text table (numbers right-aligned). */
export function textTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((h, i) =>
    Math.max(stringWidth(h), ...rows.map((r) => stringWidth(r[i] ?? "")))
  );
  const pad = (s: string, i: number) => {
    const fill = " ".repeat(widths[i] - stringWidth(s));
    return /^[-\d.,%–]+$/.test(s) && s !== "-" ? fill + s : s + fill;
  };
  const line = (cells: readonly string[]) => cells.map((c, i) => pad(c ?? "", i)).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The size summary as an aligned plain-text table (for the terminal). */
export function sizeSummaryText(rows: readonly SizeSummary[]): string {
  return textTable(SIZE_HEADERS, sizeDisplayRows(rows));
}
