/**
 * Tokens and cost of a run: training tokens per tuning task (dataset tokens × epochs), evaluation
 * input/output tokens from the answers' usage, and a cost estimate from a user-editable price
 * table (`data/prices.json`: per model, a price per 1,000 tokens for training, input and output,
 * each model with the page its prices came from and the date they were read).
 *
 * A price left `null` means "not known"; the estimate then says so instead of guessing, and the
 * token counts still stand.
 *
 * @module
 */
import { z } from "zod";
import type { TokenRow } from "../backends/clova/mod.ts";
import type { AnswerRecord } from "../run/mod.ts";

/** Prices of one model, per {@link PriceTable.perTokens} tokens; null = not known. */
export const ModelPriceSchema = z.object({
  /** Tuning: per training token (dataset tokens × epochs). */
  training: z.number().nonnegative().nullable(),
  /** Base model answers: per input token. */
  input: z.number().nonnegative().nullable(),
  /** Base model answers: per output token. */
  output: z.number().nonnegative().nullable(),
  /** Tuned-task answers, when priced apart from the base model (default: `input`). */
  tunedInput: z.number().nonnegative().nullable().optional(),
  /** Tuned-task answers, when priced apart (default: `output`). */
  tunedOutput: z.number().nonnegative().nullable().optional(),
  /** Where the prices were read (a URL or a description). */
  source: z.string().min(1),
  /** When they were read, `YYYY-MM-DD`. */
  checked: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected a date like 2026-12-01"),
  note: z.string().optional(),
});

/** The price table file (`data/prices.json`). */
export const PriceTableSchema = z.object({
  /** Currency code, e.g. `KRW`. */
  currency: z.string().min(1),
  /** Tokens each price is for (1,000). */
  perTokens: z.number().int().positive(),
  /** Whether prices include VAT. */
  vat: z.enum(["included", "excluded", "unknown"]),
  note: z.string().optional(),
  models: z.record(z.string().min(1), ModelPriceSchema),
});

/** Prices of one model (see {@link ModelPriceSchema}). */
export type ModelPrice = z.infer<typeof ModelPriceSchema>;
/** The price table (see {@link PriceTableSchema}). */
export type PriceTable = z.infer<typeof PriceTableSchema>;

/** The project's price table. */
export const DEFAULT_PRICE_TABLE: URL = new URL("../../data/prices.json", import.meta.url);

/** Raised for a price table that cannot be read or does not match the schema. */
export class PriceTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PriceTableError";
  }
}

/** Validates a parsed price table; errors name the file and the field. */
export function parsePriceTable(json: unknown, fileName = "price table"): PriceTable {
  const parsed = PriceTableSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.map(String).join(".") || "(top level)";
    throw new PriceTableError(`${fileName}: ${where}: ${issue.message}`);
  }
  return parsed.data;
}

/** Reads and validates a price table file (default `data/prices.json`). */
export async function loadPriceTable(
  path: string | URL = DEFAULT_PRICE_TABLE,
): Promise<PriceTable> {
  const name = path instanceof URL ? decodeURIComponent(path.pathname) : path;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new PriceTableError(`${name}: cannot read the price table (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PriceTableError(`${name}: not JSON (${(e as Error).message})`);
  }
  return parsePriceTable(json, name);
}

/** Training tokens of one tuning task. */
export interface TrainingTokens {
  model: string;
  size: number;
  /** Tokens of one pass over the tuning set. */
  datasetTokens: number;
  epochs: number;
  /** datasetTokens × epochs. */
  trainedTokens: number;
  /** Which tokenizer counted them (e.g. `emulator tokenizer v1`, `CLOVA Studio chat-tokenize`). */
  tokenizer: string;
}

/**
 * Tokens of each tuning set. Nested sets share rows, so every distinct row is counted once by
 * `count` (which returns one count per row, in order: the service's or the emulator's tokenizer)
 * and each set sums its own rows.
 */
export async function datasetTokensBySize(
  sets: ReadonlyMap<number, readonly TokenRow[]>,
  count: (rows: TokenRow[]) => Promise<readonly number[]> | readonly number[],
): Promise<Map<number, number>> {
  const rowKey = (r: TokenRow) => `${r.system ?? ""}\u0000${r.text}\u0000${r.completion}`;
  const distinct = new Map<string, TokenRow>();
  for (const rows of sets.values()) for (const r of rows) distinct.set(rowKey(r), r);
  const unique = [...distinct.values()];
  const counts = await count(unique);
  if (counts.length !== unique.length) {
    throw new Error(`token counter returned ${counts.length} counts for ${unique.length} rows`);
  }
  const perRow = new Map(unique.map((r, i) => [rowKey(r), counts[i]]));
  const out = new Map<number, number>();
  for (const [size, rows] of [...sets].sort((a, b) => a[0] - b[0])) {
    out.set(size, rows.reduce((sum, r) => sum + perRow.get(rowKey(r))!, 0));
  }
  return out;
}

/** Training tokens of every model × size: the dataset tokens of a size times the epochs. */
export function trainingTokens(
  models: readonly string[],
  datasetTokens: ReadonlyMap<number, number>,
  epochs: number,
  tokenizer: string,
): TrainingTokens[] {
  if (!(Number.isInteger(epochs) && epochs > 0)) throw new RangeError(`epochs must be ≥ 1`);
  const out: TrainingTokens[] = [];
  for (const model of models) {
    for (const [size, tokens] of [...datasetTokens].sort((a, b) => a[0] - b[0])) {
      out.push({
        model,
        size,
        datasetTokens: tokens,
        epochs,
        trainedTokens: tokens * epochs,
        tokenizer,
      });
    }
  }
  return out;
}

/** The fields of a journal record that evaluation tokens are summed from. */
export type UsageRecord = Pick<AnswerRecord, "model" | "size" | "usage">;

/** Evaluation tokens of one model × size (base model: size 0). */
export interface EvaluationTokens {
  model: string;
  size: number;
  answers: number;
  /** Answers whose usage was reported (the rest count zero). */
  withUsage: number;
  inputTokens: number;
  outputTokens: number;
}

/** Sums evaluation input/output tokens per model × size from the answers' journal records. */
export function evaluationTokens(records: Iterable<UsageRecord>): EvaluationTokens[] {
  const by = new Map<string, EvaluationTokens>();
  for (const { model, size, usage } of records) {
    const k = `${model}\u0000${size}`;
    const e = by.get(k) ??
      { model, size, answers: 0, withUsage: 0, inputTokens: 0, outputTokens: 0 };
    e.answers++;
    if (usage.inputTokens !== undefined || usage.outputTokens !== undefined) e.withUsage++;
    e.inputTokens += usage.inputTokens ?? 0;
    e.outputTokens += usage.outputTokens ?? 0;
    by.set(k, e);
  }
  return [...by.values()].sort((a, b) =>
    (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) || a.size - b.size
  );
}

/** The estimated cost of one model × size (training and evaluation). */
export interface CostRow {
  model: string;
  size: number;
  trainedTokens: number;
  inputTokens: number;
  outputTokens: number;
  /** null when the price is not known (or there is nothing to price: 0). */
  trainingCost: number | null;
  evaluationCost: number | null;
  /** null when any needed price is unknown. */
  totalCost: number | null;
  currency: string;
  /** Why a cost is null, e.g. `no training price for HCX-003 in data/prices.json`. */
  missing: string[];
}

/** Options of {@link estimateCost}. */
export interface CostInput {
  training?: readonly TrainingTokens[];
  evaluation?: readonly EvaluationTokens[];
  /** Name of the price table in messages (default `data/prices.json`). */
  tableName?: string;
}

/**
 * Estimated cost per model × size: training tokens × the training price, evaluation input and
 * output tokens × the base model's prices (tuned sizes use the tuned-task prices when the table
 * has them). Unknown prices give null costs and a reason, never a guess.
 */
export function estimateCost(prices: PriceTable, input: CostInput): CostRow[] {
  const table = input.tableName ?? "data/prices.json";
  const rows = new Map<string, CostRow>();
  const row = (model: string, size: number) => {
    const k = `${model}\u0000${size}`;
    let r = rows.get(k);
    if (!r) {
      r = {
        model,
        size,
        trainedTokens: 0,
        inputTokens: 0,
        outputTokens: 0,
        trainingCost: 0,
        evaluationCost: 0,
        totalCost: 0,
        currency: prices.currency,
        missing: [],
      };
      rows.set(k, r);
    }
    return r;
  };
  const per = prices.perTokens;
  const price = (model: string, field: keyof ModelPrice): number | null => {
    const p = prices.models[model];
    if (!p) return null;
    const v = p[field];
    return typeof v === "number" ? v : null;
  };
  for (const t of input.training ?? []) {
    const r = row(t.model, t.size);
    r.trainedTokens += t.trainedTokens;
    const p = price(t.model, "training");
    if (t.trainedTokens === 0) continue;
    if (p === null) {
      r.trainingCost = null;
      r.missing.push(`no training price for ${t.model} in ${table}`);
    } else if (r.trainingCost !== null) r.trainingCost += (t.trainedTokens / per) * p;
  }
  for (const e of input.evaluation ?? []) {
    const r = row(e.model, e.size);
    r.inputTokens += e.inputTokens;
    r.outputTokens += e.outputTokens;
    const tuned = e.size > 0;
    const pin = (tuned ? price(e.model, "tunedInput") : null) ?? price(e.model, "input");
    const pout = (tuned ? price(e.model, "tunedOutput") : null) ?? price(e.model, "output");
    for (
      const [tokens, p, what] of [[e.inputTokens, pin, "input"], [
        e.outputTokens,
        pout,
        "output",
      ]] as const
    ) {
      if (tokens === 0) continue;
      if (p === null) {
        r.evaluationCost = null;
        r.missing.push(`no ${what} price for ${e.model} in ${table}`);
      } else if (r.evaluationCost !== null) r.evaluationCost += (tokens / per) * p;
    }
  }
  for (const r of rows.values()) {
    r.missing = [...new Set(r.missing)];
    r.totalCost = r.trainingCost === null || r.evaluationCost === null
      ? null
      : r.trainingCost + r.evaluationCost;
  }
  return [...rows.values()].sort((a, b) =>
    (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) || a.size - b.size
  );
}

/** Sums cost rows (null when any part is unknown). */
export function totalCost(rows: readonly CostRow[]): number | null {
  let sum = 0;
  for (const r of rows) {
    if (r.totalCost === null) return null;
    sum += r.totalCost;
  }
  return sum;
}

/** A cost as text: `₩1,234` style with the currency code, or `unknown` for null. */
export function formatCost(value: number | null, currency: string): string {
  if (value === null || !Number.isFinite(value)) return "unknown";
  const digits = value >= 100 ? 0 : value >= 1 ? 2 : 4;
  return `${value.toLocaleString("en-US", { maximumFractionDigits: digits })} ${currency}`;
}
