/**
 * The token stage: counts the run's tuning-set tokens with the backend's chat-tokenize API (the
 * emulator's tokenizer offline, the service's with credentials) before any tuning task is
 * created, writes them to `tokens.json`, and words the confirmation asked before paid tasks
 * (task count, training tokens, estimated cost).
 *
 * Nested sets share rows, so each distinct row is counted once per model. The emulator answers
 * every row; on the service, at most `sampleRows` distinct rows (evenly spread) are counted and
 * the rest are scaled by characters, which `tokens.json` says (`exact: false`).
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { TUNING_SETTINGS } from "../cookbook.ts";
import type { TokenRow } from "../backends/clova/mod.ts";
import { readTuningCsv } from "../sheets/mod.ts";
import {
  estimateCost,
  formatCost,
  type PriceTable,
  totalCost,
  type TrainingTokens,
  trainingTokens,
} from "./cost.ts";
import type { Backend, RunContext } from "../run/mod.ts";
import { writeJsonAtomic } from "../io/mod.ts";

/** `tokens.json`: the training tokens of a run's tuning sets, per model. */
export const TokensFileSchema = z.object({
  /** Which tokenizer counted them. */
  tokenizer: z.string(),
  /** Whether every distinct row was counted (false: a sample, scaled by characters). */
  exact: z.boolean(),
  /** Distinct rows counted per model. */
  countedRows: z.number().int().min(0),
  /** Distinct rows of all tuning sets. */
  distinctRows: z.number().int().min(0),
  epochs: z.number().int().positive(),
  training: z.array(z.object({
    model: z.string(),
    size: z.number().int().positive(),
    datasetTokens: z.number().min(0),
    epochs: z.number().int().positive(),
    trainedTokens: z.number().min(0),
    tokenizer: z.string(),
  })),
});

/** See {@link TokensFileSchema}. */
export type TokensFile = z.infer<typeof TokensFileSchema>;

/** File name of {@link TokensFile} in a run folder. */
export const TOKENS_FILE = "tokens.json";

const rowKey = (r: TokenRow) => `${r.system ?? ""}\u0000${r.text}\u0000${r.completion}`;
const rowChars = (r: TokenRow) => (r.system?.length ?? 0) + r.text.length + r.completion.length;

/** Reads the rows of each tuning CSV. */
export async function readTuningRows(
  trainPaths: ReadonlyMap<number, string>,
): Promise<Map<number, TokenRow[]>> {
  const sets = new Map<number, TokenRow[]>();
  for (const [size, path] of trainPaths) {
    const csv = await readTuningCsv(path);
    sets.set(
      size,
      csv.rows.map((r) => ({
        text: r.text,
        completion: r.completion,
        ...(r.systemPrompt ? { system: r.systemPrompt } : {}),
      })),
    );
  }
  return sets;
}

/** Options of {@link countTrainingTokens}. */
export interface CountTokensOptions {
  /** Distinct rows counted per model at most (default: all on the emulator, 400 on the service). */
  sampleRows?: number;
  /** Epochs (default: the cookbook's tuning setting, 4). */
  epochs?: number;
  log?: (line: string) => void;
}

/**
 * Counts the training tokens of every model × tuning set through the backend's tokenizer API and
 * writes `tokens.json` (see the module doc).
 */
export async function countTrainingTokens(
  ctx: RunContext,
  backend: Backend,
  sets: ReadonlyMap<number, readonly TokenRow[]>,
  options: CountTokensOptions = {},
): Promise<TokensFile> {
  // Offline (the emulator, with or without the local models) every row is counted.
  const emulator = backend.info.kind !== "clova-studio";
  const limit = options.sampleRows ?? (emulator ? Infinity : 400);
  const epochs = options.epochs ?? TUNING_SETTINGS.trainEpochs;
  const distinct = new Map<string, TokenRow>();
  for (const rows of sets.values()) for (const r of rows) distinct.set(rowKey(r), r);
  const all = [...distinct.values()];
  const sample = all.length <= limit
    ? all
    : Array.from({ length: limit }, (_, i) => all[Math.floor((i * all.length) / limit)]);
  const exact = sample.length === all.length;
  const tokenizer = emulator
    ? "emulator tokenizer v1 (chat-tokenize API)"
    : "CLOVA Studio chat-tokenize API";
  const training: TrainingTokens[] = [];
  for (const model of ctx.file.config.models) {
    options.log?.(
      `counting tuning tokens for ${model}: ${sample.length} distinct rows` +
        (exact ? "" : ` of ${all.length} (a sample, scaled by characters)`),
    );
    const counted = await backend.client.countDatasetTokens(model, sample);
    const perRow = new Map(sample.map((r, i) => [rowKey(r), counted.perRow[i]]));
    const tokensPerChar = counted.total / Math.max(1, sample.reduce((s, r) => s + rowChars(r), 0));
    const bySize = new Map<number, number>();
    for (const [size, rows] of sets) {
      bySize.set(
        size,
        Math.round(
          rows.reduce((s, r) => s + (perRow.get(rowKey(r)) ?? rowChars(r) * tokensPerChar), 0),
        ),
      );
    }
    training.push(...trainingTokens([model], bySize, epochs, tokenizer));
  }
  const file: TokensFile = {
    tokenizer,
    exact,
    countedRows: sample.length,
    distinctRows: all.length,
    epochs,
    training,
  };
  await writeJsonAtomic(join(ctx.dir, TOKENS_FILE), file);
  return file;
}

/** Reads a run's `tokens.json`; null when the run has none. Errors name the file. */
export async function readTokensFile(dir: string): Promise<TokensFile | null> {
  const path = join(dir, TOKENS_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const parsed = TokensFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: ${issue.path.join(".") || "(top level)"}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * The question asked before creating paid tuning tasks: how many tasks, how many training tokens
 * and what they are estimated to cost (tuning only; answers are priced per token as they come).
 */
export function tuningConfirmation(options: {
  tasks: number;
  models: readonly string[];
  sizes: readonly number[];
  prompts: number;
  tokens: TokensFile;
  /** Only these (model, size) pairs are new (a resumed run reuses the others). */
  pending?: ReadonlySet<string>;
  prices: PriceTable;
}): string {
  const pending = options.tokens.training.filter((t) =>
    !options.pending || options.pending.has(`${t.model}\u0000${t.size}`)
  );
  const tokens = pending.reduce((s, t) => s + t.trainedTokens, 0);
  const cost = totalCost(estimateCost(options.prices, { training: pending }));
  const known = cost === null
    ? `estimated tuning cost: unknown (no training price in data/prices.json for ${
      [...new Set(pending.map((t) => t.model))].filter((m) =>
        options.prices.models[m]?.training == null
      ).join(", ")
    })`
    : `estimated tuning cost: ${formatCost(cost, options.prices.currency)} (${
      options.prices.vat === "excluded" ? "VAT excluded" : `VAT ${options.prices.vat}`
    }, prices from data/prices.json)`;
  return `This creates ${options.tasks} tuning task(s) on CLOVA Studio ` +
    `(${options.models.join(", ")} × ${options.sizes.length} sizes): ` +
    `${Math.round(tokens).toLocaleString("en-US")} training tokens ` +
    `(tuning-set tokens × ${options.tokens.epochs} epochs, ${options.tokens.tokenizer}` +
    `${options.tokens.exact ? "" : `, estimated from ${options.tokens.countedRows} rows`}); ` +
    `${known}. Then it answers ${options.prompts} prompts per model/task. Continue?`;
}
