/**
 * Scored answers for tests: a journal record filled in around the keys a test states, with the
 * verdict it gives (the shape the score stage hands to the tables, the statistics and the report).
 */
import { SAMPLING_PARAMETERS } from "../../lib/cookbook.ts";
import type { AnswerRecord, ScoredAnswer, ScoreRow } from "../../lib/run/schema.ts";
import type { AnswerScore } from "../../lib/scoring/score.ts";

/** What a test says of an answer; the rest of its journal record gets plain defaults. */
export interface AnswerKeys {
  model: string;
  size: number;
  /** Default: the model for size 0, else `model@size`. */
  label?: string;
  /** Default `e001`. */
  promptId?: string;
  /** Default 0. */
  index?: number;
  /** Default 0. */
  repeat?: number;
  /** The asked countries; default none. */
  countries?: readonly string[];
  /** Default: the number of asked countries. */
  countryCount?: number;
  /** Default 0. */
  continentCount?: number;
  /** Default `{}` (no usage reported). */
  usage?: AnswerRecord["usage"];
  /** Default: the asked countries under no label. */
  text?: string;
}

/** A scored answer: a journal record with `keys` and the verdict `score`. */
export function scoredAnswer(keys: AnswerKeys, score: AnswerScore): ScoredAnswer {
  const countries = [...(keys.countries ?? [])];
  const record: AnswerRecord = {
    prompt: {
      id: keys.promptId ?? "e001",
      system: "",
      user: `목록에서 나라를 대륙별로 분류해줘.\n\n${countries.join(", ")}`,
      countries,
      countryCount: keys.countryCount ?? countries.length,
      continentCount: keys.continentCount ?? 0,
    },
    index: keys.index ?? 0,
    repeat: keys.repeat ?? 0,
    label: keys.label ?? (keys.size === 0 ? keys.model : `${keys.model}@${keys.size}`),
    model: keys.model,
    size: keys.size,
    params: { ...SAMPLING_PARAMETERS, seed: (keys.repeat ?? 0) + 1 },
    text: keys.text ?? countries.join(", "),
    usage: keys.usage ?? {},
    latencyMs: 10,
    attempts: 1,
    error: null,
    answeredAt: "2024-05-17T07:40:00.000Z",
  };
  return { record, score };
}

/** A verdict of counts only: no mentions, no error unless `counts` gives one. */
export function countsScore(
  counts: Partial<
    Pick<AnswerScore, "missing" | "misclassified" | "extended" | "formatError" | "hasError">
  > = {},
): AnswerScore {
  return {
    missing: 0,
    misclassified: 0,
    extended: 0,
    formatError: false,
    hasError: false,
    ...counts,
    mentions: [],
    missingCountries: [],
    misclassifiedCountries: [],
    groups: 0,
  };
}

/** A scored answer whose `scores.csv` line is `row` (a verdict of counts only, no mentions). */
export function answerWithRow(row: ScoreRow): ScoredAnswer {
  return scoredAnswer({
    model: row.model,
    size: row.size,
    label: row.label,
    promptId: row.promptId,
    index: row.index,
    repeat: row.repeat,
    countryCount: row.countryCount,
    continentCount: row.continentCount,
  }, countsScore(row));
}
