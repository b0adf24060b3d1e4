/**
 * The run schema: every file a run folder `results/<run-id>/` holds, as zod schemas from which the
 * TypeScript types are derived. Every stage writes and reads these shapes and no other:
 *
 * | file | schema | written by |
 * | --- | --- | --- |
 * | `run.json` | {@link RunFileSchema} (config, backend, versions) | `runPipeline` |
 * | `datasets/train_<size>.csv`, `datasets/eval.xlsx` | tuning rows, {@link Prompt} rows | dataset stage |
 * | `datasets.json` | {@link DatasetsFileSchema} (files, digests and statistics) | dataset stage |
 * | `tokens.json` | `TokensFileSchema` (`lib/tuning/tokens.ts`): training tokens | token stage |
 * | `tasks.json` | {@link TasksFileSchema} (one entry per tuning task) | tuning stage |
 * | `answers/<label>.jsonl` | {@link AnswerRecordSchema}, one line per answer (append-only) | answer stage |
 * | `answers/<label>.xlsx` | the cookbook's result sheet, generated from the journal | answer stage |
 * | `scores.csv` | {@link ScoreRowSchema}, one row per answer | score stage |
 * | `summary.json` | {@link RunSummarySchema} (tables and worst answers) | analysis stage |
 * | `report.html` | rendered from `run.json`, `datasets.json` and `summary.json` | report stage |
 *
 * To add a statistic to the analysis: add its schema as a field of {@link RunSummarySchema},
 * compute it in `lib/report/stage.ts` and render it in `lib/report/report.ts`.
 *
 * @module
 */
import { z } from "zod";
import { BASE_MODELS, EVAL_PROMPTS, TUNING_SIZES } from "../cookbook.ts";
import {
  API_GENERATIONS,
  type ApiGeneration,
  BACKEND_KINDS,
  BACKEND_MODELS,
} from "../backends/mod.ts";
import {
  DEFAULT_SEED,
  MAX_ANSWERS,
  MAX_CONCURRENCY,
  MAX_EVAL_PROMPTS,
  MAX_SEED,
  MAX_TUNING_ROWS,
} from "../limits.ts";
import { TaskRecordSchema } from "./taskRecord.ts";

// ---------------------------------------------------------------------------------------------
// Prompts and answers

/**
 * One evaluation prompt: a row of the cookbook's `system`/`user` sheet plus what it asks. The
 * generator makes it, `eval.xlsx` stores it, the sheet reader returns it and every journal line
 * holds it unchanged.
 */
export const PromptSchema = z.object({
  /** `e001`, … (the sheet's `prompt_id`; `r<row>` when a sheet has none). */
  id: z.string().min(1),
  system: z.string(),
  user: z.string().refine((s) => s.trim() !== "", { message: "the prompt is empty" }),
  /** The asked countries in prompt order (canonical names; empty when the sheet names none). */
  countries: z.array(z.string()),
  /** Countries asked (0 when the sheet does not say). */
  countryCount: z.number().int().min(0),
  /** Continents those countries span (0 when the sheet does not say). */
  continentCount: z.number().int().min(0),
});

/** One evaluation prompt (see {@link PromptSchema}). */
export type Prompt = z.infer<typeof PromptSchema>;

/** Sampling parameters, in CLOVA Studio v1 names (the cookbook's `MODEL_PARAMETERS`). */
export const SamplingParamsSchema = z.object({
  temperature: z.number(),
  topP: z.number(),
  topK: z.number(),
  maxTokens: z.number().int(),
  repeatPenalty: z.number(),
  includeAiFilters: z.boolean(),
  /** The sampling seed sent (each repeat of a prompt gets its own); absent = the service's. */
  seed: z.number().int().min(0).max(4294967295).optional(),
  /** Stop sequences (v1 `stopBefore`, v3/OpenAI `stop`). */
  stop: z.array(z.string()).optional(),
});

/** Sampling parameters (see {@link SamplingParamsSchema}). */
export type SamplingParams = z.infer<typeof SamplingParamsSchema>;

/**
 * How a provider classifies a failed request: `retry` (transient: 5xx, timeout, dropped
 * connection), `rate-limited` (the server asked to slow down), `fatal` (no request can succeed:
 * credentials, unknown model or task) or `failed-row` (this prompt cannot be answered).
 */
export const FailureKindSchema = z.enum(["retry", "rate-limited", "fatal", "failed-row"]);

/** See {@link FailureKindSchema}. */
export type FailureKind = z.infer<typeof FailureKindSchema>;

/** Why a prompt has no answer (journaled after the runner's last attempt). */
export const AnswerErrorSchema = z.object({
  kind: FailureKindSchema,
  /** The service's code (`42901`, `40003`, `HTTP_500`, `NETWORK`, `TIMEOUT`, …). */
  code: z.string(),
  httpStatus: z.number().int().optional(),
  message: z.string(),
});

/** See {@link AnswerErrorSchema}. */
export type AnswerError = z.infer<typeof AnswerErrorSchema>;

/** Token usage of one answer, as the backend reported it. */
export const UsageSchema = z.object({
  inputTokens: z.number().int().min(0).optional(),
  outputTokens: z.number().int().min(0).optional(),
});

/**
 * One journal line (`answers/<label>.jsonl`): one answer, or the permanent failure, of one prompt
 * × repeat. A journal may hold several lines for one key `(index, repeat)`: the last answer wins,
 * else the last failure.
 */
export const AnswerRecordSchema = z.object({
  /** The prompt, exactly as the sheet held it. */
  prompt: PromptSchema,
  /** 0-based position of the prompt in its sheet. */
  index: z.number().int().min(0),
  /** 0-based repeat; each repeat is a separate sample with its own `params.seed`. */
  repeat: z.number().int().min(0),
  /** Answer label: `HCX-003` (base model), `HCX-003@500` (tuned on 500 rows), …. */
  label: z.string().min(1),
  /** Base model. */
  model: z.string(),
  /** Tuning-set size (0 = the base model). */
  size: z.number().int().min(0),
  params: SamplingParamsSchema,
  /** The answer; null when the prompt could not be answered (see `error`). */
  text: z.string().nullable(),
  finishReason: z.string().optional(),
  usage: UsageSchema,
  /** Wall time of the last attempt's HTTP exchange. */
  latencyMs: z.number().min(0),
  /** The backend's request id. */
  requestId: z.string().optional(),
  /** HTTP attempts made, retries included. */
  attempts: z.number().int().min(1),
  error: AnswerErrorSchema.nullable(),
  answeredAt: z.string(),
});

/** One journal line (see {@link AnswerRecordSchema}). */
export type AnswerRecord = z.infer<typeof AnswerRecordSchema>;

// ---------------------------------------------------------------------------------------------
// Scores

/** A group: one of the cookbook's continents, or a group of the run's task. */
const ContinentSchema = z.string();

/** One item the score parser found in an answer, and how it was judged. */
export const MentionSchema = z.object({
  /** The item as written in the answer (trimmed, before stripping notes and punctuation). */
  raw: z.string(),
  /** The cleaned item text that was looked up. */
  text: z.string(),
  /** 1-based line number of the item in the answer. */
  line: z.number().int(),
  /** The group label, markdown and numbering removed. */
  label: z.string(),
  /** The continent the label resolved to, or null (중동, 기타, a preamble …). */
  labelContinent: ContinentSchema.nullable(),
  kind: z.enum(["asked-country", "other-country", "non-member", "unknown"]),
  /** ISO code of the resolved country or non-member, null when unknown. */
  code: z.string().nullable(),
  /** Canonical Korean name of the resolved country or non-member, null when unknown. */
  name: z.string().nullable(),
  /** The resolved country's own continent (null for non-members and unknown strings). */
  continent: ContinentSchema.nullable(),
  /** For countries: whether this mention sits under the country's own continent; else null. */
  inOwnContinent: z.boolean().nullable(),
  /**
   * The first mention of an asked country is `correct` (under its own continent) or `misplaced`;
   * later mentions of it are `repeat`; anything else is `extended`.
   */
  status: z.enum(["correct", "misplaced", "repeat", "extended"]),
});

/** The full score of one answer. */
export const AnswerScoreSchema = z.object({
  /** Asked countries never mentioned. */
  missing: z.number().int().min(0),
  /** Asked countries mentioned, but not every mention under their own continent. */
  misclassified: z.number().int().min(0),
  /** Mentions that are not asked countries, plus repeat mentions of asked countries. */
  extended: z.number().int().min(0),
  /** No group could be parsed from the answer. */
  formatError: z.boolean(),
  /** `formatError` or any count above zero. */
  hasError: z.boolean(),
  /** Every parsed item, in answer order. */
  mentions: z.array(MentionSchema),
  /** Canonical names of the asked countries that are missing, in asked order. */
  missingCountries: z.array(z.string()),
  /** Canonical names of the asked countries that are misclassified, in asked order. */
  misclassifiedCountries: z.array(z.string()),
  /** Number of groups parsed. */
  groups: z.number().int().min(0),
});

/**
 * One answer as scoring returns it: its journal record, unchanged, with the verdict beside it.
 * The one record of an answer from the score stage on: the tables, the statistics, the worst
 * answers of `summary.json`, the report and the run comparison all read it.
 */
export const ScoredAnswerSchema = z.object({
  record: AnswerRecordSchema,
  score: AnswerScoreSchema,
});

/** One answer with its verdict (see {@link ScoredAnswerSchema}). */
export type ScoredAnswer = z.infer<typeof ScoredAnswerSchema>;

/**
 * One line of `scores.csv` (and one row of the analysis frame): a {@link ScoredAnswer} as a flat
 * table row, made by {@link scoreRow} where a table is written — the keys of its journal line, its
 * prompt's counts and its verdict's counts, without the answer, the mentions or the usage.
 */
export const ScoreRowSchema = z.object({
  label: z.string().min(1),
  model: z.string().min(1),
  size: z.number().int().min(0),
  promptId: z.string().min(1),
  /** The prompt's position in its sheet (with `label` and `repeat`: where its journal line is). */
  index: z.number().int().min(0),
  repeat: z.number().int().min(0),
  countryCount: z.number().int().min(0),
  continentCount: z.number().int().min(0),
  missing: z.number().int().min(0),
  misclassified: z.number().int().min(0),
  extended: z.number().int().min(0),
  formatError: z.boolean(),
  hasError: z.boolean(),
});

/** One line of `scores.csv` (see {@link ScoreRowSchema}). */
export type ScoreRow = z.infer<typeof ScoreRowSchema>;

/** Column order of `scores.csv`: the fields of {@link ScoreRowSchema}, in order. */
export const SCORE_COLUMNS = Object.keys(ScoreRowSchema.shape) as (keyof ScoreRow)[];

/** The `scores.csv` line of a scored answer (see {@link ScoreRowSchema}). */
export function scoreRow({ record, score }: ScoredAnswer): ScoreRow {
  return {
    label: record.label,
    model: record.model,
    size: record.size,
    promptId: record.prompt.id,
    index: record.index,
    repeat: record.repeat,
    countryCount: record.prompt.countryCount,
    continentCount: record.prompt.continentCount,
    missing: score.missing,
    misclassified: score.misclassified,
    extended: score.extended,
    formatError: score.formatError,
    hasError: score.hasError,
  };
}

// ---------------------------------------------------------------------------------------------
// Summaries (tables)

/** Where a summary's figures come from. */
export const SummarySourceSchema = z.enum(["this run", "cookbook"]);

/** Where a summary's figures come from. */
export type SummarySource = z.infer<typeof SummarySourceSchema>;

/** A number that may be NaN (an interval with no per-answer data, such as the cookbook's). */
const maybeNaN = z.union([z.number(), z.nan()]);

/** One model × tuning size: summed counts and the error probability with its Wilson interval. */
export const SizeSummarySchema = z.object({
  source: SummarySourceSchema,
  model: z.string(),
  /** Tuning-set size; 0 = the base model. */
  size: z.number().int().min(0),
  trainLoss: z.number().nullable(),
  answers: z.number().int().min(0),
  /** Answers with `hasError`. */
  errors: z.number().int().min(0),
  missing: z.number().int().min(0),
  misclassified: z.number().int().min(0),
  extended: z.number().int().min(0),
  /** errors / answers. */
  errorRate: z.number(),
  /** Wilson 95% interval of errorRate; NaN for the cookbook (no per-answer data). */
  errorLow: maybeNaN,
  errorHigh: maybeNaN,
});

/** See {@link SizeSummarySchema}. */
export type SizeSummary = z.infer<typeof SizeSummarySchema>;

/** The grouping dimensions of {@link GroupSummary}. */
export const GroupBySchema = z.enum(["countryCount", "continentCount"]);

/** See {@link GroupBySchema}. */
export type GroupBy = z.infer<typeof GroupBySchema>;

/** One model × tuning size × country count (or continent count): the error probability. */
export const GroupSummarySchema = z.object({
  source: SummarySourceSchema,
  model: z.string(),
  size: z.number().int().min(0),
  by: GroupBySchema,
  /** The country count (10/15/20/30) or continent count (2–6). */
  value: z.number().int(),
  answers: z.number().int().min(0),
  errors: z.number().int().min(0),
  errorRate: z.number(),
  errorLow: maybeNaN,
  errorHigh: maybeNaN,
});

/** See {@link GroupSummarySchema}. */
export type GroupSummary = z.infer<typeof GroupSummarySchema>;

/** One journal's part of a run's scores. */
export const JournalSummarySchema = z.object({
  label: z.string(),
  /** Path inside the run folder, e.g. `answers/HCX-003@500.jsonl`. */
  file: z.string(),
  /** Answers scored. */
  answered: z.number().int().min(0),
  /** Prompts with no answer (permanent failures), not scored. */
  failed: z.number().int().min(0),
});

/** One journal's part of a run's scores (see {@link JournalSummarySchema}). */
export type JournalSummary = z.infer<typeof JournalSummarySchema>;

/** The country lists: `un` (the 193 members) or `cookbook` (its 192). */
export const TaxonomyListSchema = z.enum(["un", "cookbook"]);

/** See {@link TaxonomyListSchema}. */
export type TaxonomyList = z.infer<typeof TaxonomyListSchema>;

/** `summary.json`: what the analysis of a run's scores found (read by the report and notebooks). */
export const RunSummarySchema = z.object({
  /** Country list answers were scored against (or the run's task's taxonomy). */
  scoredWith: z.string(),
  journals: z.array(JournalSummarySchema),
  /** Answers scored, all journals. */
  answers: z.number().int().min(0),
  /** Prompts with no answer, all journals. */
  failedAnswers: z.number().int().min(0),
  bySize: z.array(SizeSummarySchema),
  byCountryCount: z.array(GroupSummarySchema),
  byContinentCount: z.array(GroupSummarySchema),
  /** The answers with the most errors per tuning size: sizes ascending, worst first in each. */
  worst: z.array(ScoredAnswerSchema),
  /**
   * The run's statistics (paired comparisons, curves, country errors, cost): a `RunStatistics`
   * of `lib/analysis/stats/runStatistics.ts`, whose schema validates it where it is read (it lives beside
   * the statistics, which load nodejs-polars).
   */
  statistics: z.record(z.string(), z.unknown()),
  /**
   * For a dataset you bring scored by `label`: per model × size, the expected label (row) by the
   * label the answer named (column; `(none)` when it named none or several).
   */
  labelConfusion: z.array(z.object({
    model: z.string(),
    size: z.number().int(),
    labels: z.array(z.string()),
    counts: z.record(z.string(), z.record(z.string(), z.number().int())),
  })).optional(),
});

/** `summary.json` (see {@link RunSummarySchema}). */
export type RunSummary = z.infer<typeof RunSummarySchema>;

// ---------------------------------------------------------------------------------------------
// Datasets

const CharStatsSchema = z.object({ min: z.number(), mean: z.number(), max: z.number() });
const MixShareSchema = z.object({
  value: z.number().int(),
  rows: z.number().int().min(0),
  /** Fraction of all rows (0–1). */
  share: z.number(),
});

/** Validation and statistics for a training set or an evaluation set. */
export const DatasetStatsSchema = z.object({
  rows: z.number().int().min(0),
  /** Characters of `text` (training) or `user` (evaluation) per row. */
  textChars: CharStatsSchema,
  /** Characters of `completion` per row; `null` for evaluation prompts. */
  completionChars: CharStatsSchema.nullable(),
  /** Total characters of text and completion. */
  totalChars: z.number().int().min(0),
  byCountryCount: z.array(MixShareSchema),
  byContinentCount: z.array(MixShareSchema),
  /** The crossed table: rows per (country count, continent count). */
  cells: z.array(z.object({
    countryCount: z.number().int(),
    continentCount: z.number().int(),
    rows: z.number().int().min(0),
  })),
  coverage: z.object({
    /** The country list (`un`, `cookbook`), or the name of the run's task's taxonomy. */
    list: z.string(),
    /** Countries in the list (193 for `un`). */
    countries: z.number().int(),
    /** Distinct listed countries asked at least once. */
    used: z.number().int(),
    /** Listed countries never asked, in list order. */
    neverUsed: z.array(z.string()),
    /** Asked names that are not in the list. */
    unknown: z.array(z.string()),
  }),
  /** Rows asking a country set an earlier row already asked, and how many sets repeat. */
  duplicates: z.object({ rows: z.number().int(), sets: z.number().int() }),
});

/** See {@link DatasetStatsSchema}. */
export type DatasetStats = z.infer<typeof DatasetStatsSchema>;
/** Minimum, mean and maximum of a per-row length. */
export type CharStats = z.infer<typeof CharStatsSchema>;
/** Rows for one value of a mix dimension. */
export type MixShare = z.infer<typeof MixShareSchema>;

/** One dataset file of a run, with its statistics. */
export const DatasetEntrySchema = z.object({
  /** Display name, e.g. "튜닝 1,000개 (train)" or "평가 세트 (evaluation)". */
  name: z.string(),
  /** Path inside the run folder, e.g. `datasets/train_1000.csv`. */
  file: z.string(),
  kind: z.enum(["train", "eval"]),
  /** Rows of a tuning set (0 for the evaluation set). */
  size: z.number().int().min(0),
  /** SHA-256 of the file's bytes (hex), checked before a resumed run reuses it. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  stats: DatasetStatsSchema,
});

/** See {@link DatasetEntrySchema}. */
export type DatasetEntry = z.infer<typeof DatasetEntrySchema>;

/** `datasets.json`: every dataset file of a run. */
export const DatasetsFileSchema = z.array(DatasetEntrySchema);

// ---------------------------------------------------------------------------------------------
// Tuning tasks

/** One tuning task of a run (an entry of `tasks.json`). */
export const TaskEntrySchema = z.object({
  /** Answer label of the tuned task: `HCX-003@500`. */
  label: z.string().min(1),
  model: z.string().min(1),
  size: z.number().int().positive(),
  taskId: z.string().min(1),
  status: z.string(),
  trainLoss: z.number().nullable(),
  currStep: z.number().optional(),
  totalTrainSteps: z.number().optional(),
  failureReason: z.string().optional(),
  message: z.string().optional(),
  requestId: z.string().optional(),
});

/** See {@link TaskEntrySchema}. */
export type TaskEntry = z.infer<typeof TaskEntrySchema>;

/** `tasks.json`: the run's tuning tasks, in creation order. */
export const TasksFileSchema = z.array(TaskEntrySchema);

/**
 * A task create as last sent to the service: until twice the request timeout after `sentAt`
 * the service may still be creating the task, so a resumed run waits that out before it reads
 * the task list and decides to create it again.
 */
export const SentCreateSchema = z.object({
  /** The task's name (see `taskName`). */
  name: z.string().min(1),
  /** Answer label of the task: `HCX-003@500`. */
  label: z.string().min(1),
  /** When the create was last sent (ISO 8601). */
  sentAt: z.string().datetime({ offset: true }),
  /** The client's request timeout then (ms). */
  timeoutMs: z.number().int().positive(),
});

/** See {@link SentCreateSchema}. */
export type SentCreate = z.infer<typeof SentCreateSchema>;

/** `tuning-sent.json`: the last send of each task create, by name. */
export const SentCreatesFileSchema = z.array(SentCreateSchema);

// ---------------------------------------------------------------------------------------------
// The run: backend, config (the experiment spec) and run.json

/** The backend that produced a run's figures. */
export const BackendInfoSchema = z.object({
  /**
   * `clova-studio`: the real service; `emulator`: the local CLOVA Studio emulator and its
   * reference learner; `local`: the emulator serving the local neural models.
   */
  kind: z.enum(BACKEND_KINDS),
  /** Human description, e.g. "local CLOVA Studio emulator — reference learner". */
  name: z.string(),
  /** Base URL that was called (shown as plain text, never loaded). */
  url: z.string().optional(),
  /** Extra remark (e.g. API generation, fault injection). */
  note: z.string().optional(),
  /** The API generation the credentials chose. */
  generation: z.enum(API_GENERATIONS as [ApiGeneration, ...ApiGeneration[]]).optional(),
  /** Emulator strictness (`strict`: the current docs; `cookbook-2024`: the 2024 dataset rules). */
  compat: z.enum(["strict", "cookbook-2024"]).optional(),
  /** Fewest data rows a tuning set may have on this backend (0 = no minimum). */
  minRows: z.number().int().min(0).optional(),
});

/** See {@link BackendInfoSchema}. */
export type BackendInfo = z.infer<typeof BackendInfoSchema>;

/** Models some backend tunes (the chosen backend's own list is checked before a run starts). */
const TUNABLE_MODELS: readonly string[] = [
  ...BACKEND_MODELS["clova-studio"].tunable,
  ...BACKEND_MODELS.local.tunable,
];

/** How a command-line flag sets one field of the experiment spec. */
export interface FlagSpec {
  /** Flag name without dashes, e.g. `sizes`. */
  name: string;
  /** Argument placeholder shown in the usage (absent: a boolean switch). */
  arg?: string;
  /** One line of usage text; the default is appended. */
  help: string;
  /** Turns the flag's text (or `true` for a switch) into the field's value before validation. */
  parse: (text: string | true) => unknown;
  /** The default as the usage shows it. */
  shows: string;
}

const list = (text: string | true) =>
  String(text).split(",").map((s) => s.trim()).filter((s) => s !== "");
const numbers = (text: string | true) =>
  list(text).map((s) => (/^-?\d+(\.\d+)?$/.test(s) ? Number(s) : NaN));
const number = (text: string | true) => numbers(text).length === 1 ? numbers(text)[0] : NaN;
const positiveInt = (what: string) =>
  z.number({ error: `expected a whole number above 0 (${what})` }).int({
    error: `expected a whole number above 0 (${what})`,
  }).positive({ error: `expected a whole number above 0 (${what})` });

/**
 * The experiment spec: each field of {@link RunConfig} with its schema (and default) and the
 * `deno task reproduce` flag that sets it. {@link RunConfigSchema}, the defaults, the flags and
 * their usage text all come from this one table, and `run.json` is validated against it.
 */
export const RUN_CONFIG_FIELDS = {
  models: {
    schema: z.array(
      z.string().refine((m) => TUNABLE_MODELS.includes(m), {
        error: (i) =>
          `unknown model ${JSON.stringify(i.input)}; tunable models: ${TUNABLE_MODELS.join(", ")}`,
      }),
    ).min(1, { error: "name at least one model" }).default([...BASE_MODELS]),
    flag: {
      name: "models",
      arg: "A,B",
      help: "base models to tune",
      parse: list,
      shows: `${BASE_MODELS.join(",")}; local: ${BACKEND_MODELS.local.defaultModels.join(",")}`,
    },
  },
  sizes: {
    schema: z.array(
      positiveInt("tuning rows, e.g. --sizes 50,100").max(MAX_TUNING_ROWS, {
        error: `a tuning set has at most ${MAX_TUNING_ROWS.toLocaleString("en")} rows`,
      }),
    )
      .min(1, { error: "name at least one size, e.g. --sizes 50,100" })
      .refine((s) => new Set(s).size === s.length, { error: "a size is listed twice" })
      .default([...TUNING_SIZES]),
    flag: {
      name: "sizes",
      arg: "50,100,…",
      help: "tuning-set sizes, or `cookbook` for the cookbook's",
      parse: (text: string | true) =>
        String(text).trim() === "cookbook" ? [...TUNING_SIZES] : numbers(text),
      shows: "the cookbook's 50, 100 … 1000, 2000, 10000; local: " +
        BACKEND_MODELS.local.defaultSizes.join(","),
    },
  },
  seed: {
    schema: z.number({ error: "expected a whole number ≥ 0" }).int({
      error: "expected a whole number ≥ 0",
    }).min(0, { error: "expected a whole number ≥ 0" }).max(MAX_SEED).default(DEFAULT_SEED),
    flag: {
      name: "seed",
      arg: "N",
      help: "dataset seed",
      parse: number,
      shows: String(DEFAULT_SEED),
    },
  },
  evalPrompts: {
    schema: positiveInt("evaluation prompts").max(MAX_EVAL_PROMPTS, {
      error: `at most ${MAX_EVAL_PROMPTS.toLocaleString("en")} (the rows of one XLSX sheet)`,
    }).default(EVAL_PROMPTS),
    flag: {
      name: "prompts",
      arg: "N",
      help: "evaluation prompts",
      parse: number,
      shows: String(EVAL_PROMPTS),
    },
  },
  repeats: {
    schema: positiveInt("answers per prompt").max(MAX_ANSWERS, {
      error: `at most ${MAX_ANSWERS.toLocaleString("en")} (the rows of one XLSX result sheet)`,
    }).default(1),
    flag: {
      name: "repeats",
      arg: "N",
      help: "answers per prompt, each a separate sample with its own seed",
      parse: number,
      shows: "1",
    },
  },
  includeBaseModels: {
    schema: z.boolean().default(true),
    flag: {
      name: "no-base",
      help: "skip evaluating the untuned base models",
      parse: () => false,
      shows: "base models are evaluated",
    },
  },
  order: {
    schema: z.enum(["shuffled", "grouped"], { error: "expected shuffled or grouped" }).default(
      "shuffled",
    ),
    flag: {
      name: "order",
      arg: "shuffled|grouped",
      help:
        "tuning text lists countries shuffled, or grouped by continent (the cookbook's first try)",
      parse: String,
      shows: "shuffled",
    },
  },
  taxonomy: {
    schema: z.enum(["un", "cookbook"], { error: "expected un or cookbook" }).default("un"),
    flag: {
      name: "list",
      arg: "un|cookbook",
      help: "country list (un: the 193 members; cookbook: its 192)",
      parse: String,
      shows: "un",
    },
  },
  minRowsPolicy: {
    schema: z.enum(["skip", "pad", "fail"], { error: "expected skip, pad or fail" }).default(
      "skip",
    ),
    flag: {
      name: "min-rows-policy",
      arg: "P",
      help: "sizes below the API's row minimum: skip, pad (repeat rows) or fail",
      parse: String,
      shows: "skip",
    },
  },
  concurrency: {
    schema: positiveInt("requests in flight").max(MAX_CONCURRENCY, {
      error: `at most ${MAX_CONCURRENCY} requests in flight`,
    }).default(16),
    flag: {
      name: "concurrency",
      arg: "N",
      help: "requests in flight per evaluation",
      parse: number,
      shows: "16",
    },
  },
  rpm: {
    schema: z.number({ error: "expected a number above 0" }).positive({
      error: "expected a number above 0",
    }).optional(),
    flag: {
      name: "rpm",
      arg: "N",
      help: "request starts per minute per evaluation, retries included",
      parse: number,
      shows: "no limit",
    },
  },
  maxAttempts: {
    schema: positiveInt("attempts per prompt").default(6),
    flag: {
      name: "max-attempts",
      arg: "N",
      help: "attempts per prompt, retries included",
      parse: number,
      shows: "6",
    },
  },
} as const satisfies Record<string, { schema: z.ZodType; flag: FlagSpec }>;

type ConfigFields = typeof RUN_CONFIG_FIELDS;

/** What a run does: the experiment spec's fields (see {@link RUN_CONFIG_FIELDS}). */
export const RunConfigSchema = z.object(
  Object.fromEntries(
    Object.entries(RUN_CONFIG_FIELDS).map(([key, f]) => [key, f.schema]),
  ) as { [K in keyof ConfigFields]: ConfigFields[K]["schema"] },
);

/** What a run does; saved in `run.json` (see {@link RUN_CONFIG_FIELDS}). */
export type RunConfig = z.output<typeof RunConfigSchema>;

/** The defaults of {@link RunConfig}: the cookbook's experiment. */
export const DEFAULT_RUN_CONFIG: Readonly<RunConfig> = Object.freeze(RunConfigSchema.parse({}));

/**
 * How a run is run, not what it measures: these fields may change when a run is resumed (a run
 * that met rate limits can go on more gently). Every other field of {@link RunConfig} is the
 * experiment's spec, fixed for the run and checked on resume.
 */
export const RUNTIME_FIELDS = ["concurrency", "rpm", "maxAttempts"] as const satisfies readonly (
  keyof RunConfig
)[];

/** A field of {@link RUNTIME_FIELDS}. */
export type RuntimeField = typeof RUNTIME_FIELDS[number];

/** What to do with a tuning size below the backend's row minimum (see `planTuning`). */
export type MinRowsPolicy = RunConfig["minRowsPolicy"];

/** `run.json`: what made the run. */
export const RunFileSchema = z.object({
  runId: z.string().min(1),
  /** ISO time the run was created. */
  created: z.string(),
  config: RunConfigSchema,
  /** The run's task when `--task` named one (absent: the cookbook's country task). */
  task: TaskRecordSchema.optional(),
  backend: BackendInfoSchema,
  /** Versions of Deno, TypeScript, the npm packages and the git commit that made the run. */
  versions: z.record(z.string(), z.string()),
});

/** `run.json` (see {@link RunFileSchema}). */
export type RunFile = z.infer<typeof RunFileSchema>;

/** File names inside a run folder. */
export const RUN_FILES = {
  run: "run.json",
  datasets: "datasets.json",
  tokens: "tokens.json",
  tasks: "tasks.json",
  sentCreates: "tuning-sent.json",
  scores: "scores.csv",
  summary: "summary.json",
  report: "report.html",
  lock: "run.lock",
  /** The journal of one answer label. */
  journal: (label: string) => `answers/${label}.jsonl`,
  /** The result spreadsheet of one answer label. */
  answerSheet: (label: string) => `answers/${label}.xlsx`,
} as const;
