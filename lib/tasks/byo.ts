/**
 * A dataset you bring: your tuning rows (a CLOVA Studio CSV in either layout) and an evaluation
 * sheet (`.xlsx` or `.csv`) with `system`, `user` and the expected `answer` of each prompt. The
 * size sweep draws nested, seeded subsets of your rows; a size larger than your rows is refused
 * before anything is drawn. Checks before any work: the sheet has an `answer` column and no empty
 * answer; for `grouping`, every expected answer is in the `group: a, b` form; for `label`, labels
 * the evaluation expects but training never shows are warned about (not refused); no row or prompt
 * is longer than a model's context.
 *
 * @module
 */
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { basename } from "node:path";
import { normalizeName } from "../countries/mod.ts";
import { countTokens } from "../backends/mod.ts";
import type { Prompt } from "../run/mod.ts";
import { readTuningCsv, SheetError, type TuningCsvRow } from "../sheets/mod.ts";
import { scoreGroupingAgainst } from "./score.ts";
import { type DatasetTaskSpec, TaskError } from "../run/mod.ts";
import { readTable } from "./table.ts";

/** One evaluation prompt you bring, with its expected answer and where it was read. */
export interface ExpectedPrompt {
  prompt: Prompt;
  answer: string;
  /** `eval.xlsx: row 4`. */
  where: string;
}

/** A bring-your-own task's data, read and checked. */
export interface ByoData {
  /** The tuning rows, in file order. */
  train: TuningCsvRow[];
  /** The evaluation prompts with their expected answers. */
  eval: ExpectedPrompt[];
  /** Problems worth saying that do not stop the run (one line each). */
  warnings: string[];
}

/** Reads the evaluation sheet: `user` and `answer` required, `system` and `prompt_id` optional. */
export async function readExpectedSheet(path: string): Promise<ExpectedPrompt[]> {
  const name = basename(path);
  const table = await readTable(path, "an evaluation sheet");
  const first = table.findIndex((r) => r.some((c) => c.trim() !== ""));
  if (first < 0) throw new TaskError(`${name}: the sheet is empty (no header row)`);
  const header = table[first].map((h) => h.trim().toLowerCase());
  const found = header.filter(Boolean).map((h) => JSON.stringify(h)).join(", ");
  for (const required of ["user", "answer"]) {
    if (!header.includes(required)) {
      throw new TaskError(
        `${name}: row ${first + 1}: no "${required}" column` +
          (required === "answer" ? " (the expected answer of each prompt)" : "") +
          ` (found: ${found})`,
      );
    }
  }
  const col = (c: string) => header.indexOf(c);
  const out: ExpectedPrompt[] = [];
  const ids = new Map<string, number>();
  for (let r = first + 1; r < table.length; r++) {
    const row = table[r];
    if (!row.some((c) => c.trim() !== "")) continue;
    const get = (c: string) => (col(c) < 0 ? "" : (row[col(c)] ?? ""));
    const where = `${name}: row ${r + 1}`;
    if (get("user").trim() === "") throw new TaskError(`${where}: the prompt (user) is empty`);
    if (get("answer").trim() === "") throw new TaskError(`${where}: the expected answer is empty`);
    const id = get("prompt_id").trim() || `r${r + 1}`;
    const before = ids.get(id);
    if (before !== undefined) {
      throw new TaskError(`${where}: prompt_id ${JSON.stringify(id)} repeats row ${before}`);
    }
    ids.set(id, r + 1);
    out.push({
      prompt: {
        id,
        system: get("system"),
        user: get("user"),
        countries: [],
        countryCount: 0,
        continentCount: 0,
      },
      answer: get("answer"),
      where,
    });
  }
  if (out.length === 0) throw new TaskError(`${name}: the sheet has a header but no prompt rows`);
  return out;
}

/**
 * Reads and checks a bring-your-own task's files (see the module doc). A `label` task whose
 * evaluation expects labels the tuning rows never show gets one warning naming them.
 */
export async function readByoData(spec: DatasetTaskSpec): Promise<ByoData> {
  let train: TuningCsvRow[];
  try {
    train = (await readTuningCsv(spec.train)).rows;
  } catch (e) {
    if (e instanceof SheetError) throw new TaskError(e.message);
    throw e;
  }
  if (train.length === 0) throw new TaskError(`${spec.train}: no tuning rows under the header`);
  const evalSet = await readExpectedSheet(spec.eval);
  const warnings: string[] = [];
  if (spec.scorer === "grouping") {
    for (const e of evalSet) scoreGroupingAgainst(e.answer, e.answer, e.where);
  }
  if (spec.scorer === "label") {
    const trained = new Set(train.map((r) => normalizeName(r.completion)));
    const unseen = [...new Set(evalSet.map((e) => e.answer.trim()))].filter(
      (l) => !trained.has(normalizeName(l)),
    );
    if (unseen.length) {
      warnings.push(
        `${basename(spec.eval)}: ${unseen.length} expected label${
          unseen.length === 1 ? "" : "s"
        } never appear${unseen.length === 1 ? "s" : ""} in the tuning rows ` +
          `(${unseen.map((l) => JSON.stringify(l)).join(", ")}); a tuned model can only guess ` +
          `${unseen.length === 1 ? "it" : "them"}`,
      );
    }
  }
  return { train, eval: evalSet, warnings };
}

/**
 * Nested, seeded subsets of `rows` for each size: one seeded permutation of the rows, a set of
 * size `s` its first `s` rows (so every smaller set is in every larger one). A size above the
 * rows there are is refused, naming the file.
 */
export function nestedSubsets<T>(
  rows: readonly T[],
  sizes: readonly number[],
  seed: number,
  file = "the tuning rows",
): Map<number, T[]> {
  const tooBig = sizes.filter((s) => s > rows.length);
  if (tooBig.length) {
    throw new TaskError(
      `--sizes ${tooBig.join(",")}: ${basename(file)} holds only ${rows.length} rows`,
    );
  }
  const order = rows.map((_, i) => i);
  const rng = xoroshiro128plus(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return new Map(sizes.map((s) => [s, order.slice(0, s).map((i) => rows[i])]));
}

/** A tuning row (with its completion) or an evaluation prompt, as the context check sees it. */
export interface ContextRow {
  /** The system prompt, when there is one. */
  system?: string;
  user: string;
  /** A tuning row's completion; absent for an evaluation prompt. */
  completion?: string;
  /** Where the row was read, for the error: `rows.csv: row 4`. */
  where: string;
}

/** A model's context and how its own tokenizer counts a row. */
export interface ContextLimit {
  model: string;
  /** The most tokens a row or prompt may have, in `count`'s tokens. */
  maxInputTokens: number;
  /** Tokens of a row or prompt on this model; default {@link emulatorRowTokens}. */
  count?: (row: ContextRow) => number;
  /** The tokenizer `count` is, named in the error when it is not the emulator's. */
  tokenizer?: string;
}

/** A row's tokens in the emulator tokenizer: its system prompt, prompt and completion. */
export function emulatorRowTokens(row: ContextRow): number {
  return countTokens(row.system ?? "") + countTokens(row.user) +
    countTokens(row.completion ?? "");
}

/**
 * Throws a one-line {@link TaskError} for the first tuning row or prompt longer than a model's
 * context, each model counting with its own tokenizer; a row too long for several models names
 * the one with the smallest context.
 */
export function checkContext(rows: Iterable<ContextRow>, limits: readonly ContextLimit[]): void {
  const ordered = [...limits].sort((a, b) => a.maxInputTokens - b.maxInputTokens);
  for (const r of rows) {
    for (const limit of ordered) {
      const tokens = (limit.count ?? emulatorRowTokens)(r);
      if (tokens <= limit.maxInputTokens) continue;
      throw new TaskError(
        `${r.where}: ${tokens.toLocaleString("en-US")} tokens` +
          (limit.tokenizer ? ` (${limit.tokenizer})` : "") +
          `, longer than ${limit.model}'s context of ` +
          `${limit.maxInputTokens.toLocaleString("en-US")}`,
      );
    }
  }
}
