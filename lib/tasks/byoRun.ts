/**
 * A dataset you bring, in a run: checked before the run folder exists (files, sizes, context),
 * copied into the run folder (`datasets/source/`, so a resumed run never needs the originals),
 * drawn into nested tuning sets and the evaluation sheet by the dataset stage, with the expected
 * answers in `datasets/expected.json`, and scored by the task's scorer.
 *
 * @module
 */
import { basename, extname, join } from "node:path";
import { z } from "zod";
import { writeFileAtomic, writeJsonAtomic } from "../io/mod.ts";
import { sha256Hex } from "../io/mod.ts";
import type { AnswerRecord, Prompt } from "../run/mod.ts";
import type { AnswerScore } from "../scoring/mod.ts";
import {
  type ByoData,
  checkContext,
  type ContextLimit,
  nestedSubsets,
  readByoData,
} from "./byo.ts";
import type { DatasetTaskRecord } from "../run/mod.ts";
import {
  type LabelScore,
  labelScorer,
  scoreExact,
  scoreGroupingAgainst,
  type TaskScore,
} from "./score.ts";
import {
  type DatasetTaskSpec,
  DatasetTaskSpecSchema,
  type ScorerName,
  TaskError,
} from "../run/mod.ts";
import type { RunTrainingRow } from "./generate.ts";

/** Where a run keeps the expected answers of a dataset you bring. */
export const EXPECTED_FILE = "datasets/expected.json";

const ExpectedFileSchema = z.object({
  /** Every label the task knows (training completions and expected answers), for `label`. */
  labels: z.array(z.string()),
  /** Prompt id → expected answer. */
  answers: z.record(z.string(), z.string()),
});

/** A dataset you bring, checked: its spec, its data and what to warn about. */
export interface CheckedDatasetTask {
  spec: DatasetTaskSpec;
  data: ByoData;
}

/**
 * Reads and checks a dataset you bring before anything is made: the files (see `readByoData`),
 * every size against the rows there are, and every row and prompt against each model's context
 * in `limits` (counted by that model's tokenizer). Throws a one-line {@link TaskError}.
 */
export async function checkDatasetTask(
  given: { train: string; eval: string; scorer: ScorerName },
  opts: { sizes: readonly number[]; limits: readonly ContextLimit[] },
): Promise<CheckedDatasetTask> {
  const name = basename(given.train, extname(given.train)).toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-").replace(/^[^a-z0-9]+/, "").slice(0, 64) || "dataset";
  const spec = DatasetTaskSpecSchema.parse({ kind: "dataset", name, ...given });
  const data = await readByoData(spec);
  nestedSubsets(data.train, opts.sizes, 0, spec.train);
  checkContext(
    [
      ...data.train.map((r) => ({
        system: r.systemPrompt,
        user: r.text,
        completion: r.completion,
        where: `${basename(spec.train)}: row ${r.row}`,
      })),
      ...data.eval.map((e) => ({ system: e.prompt.system, user: e.prompt.user, where: e.where })),
    ],
    opts.limits,
  );
  return { spec, data };
}

/** Copies the checked files into the run folder and returns the task's record for `run.json`. */
export async function recordDatasetTask(
  runDir: string,
  task: CheckedDatasetTask,
): Promise<DatasetTaskRecord> {
  const copy = async (from: string, to: string) => {
    const bytes = await Deno.readFile(from);
    await Deno.mkdir(join(runDir, "datasets", "source"), { recursive: true });
    await writeFileAtomic(join(runDir, to), bytes);
    return await sha256Hex(bytes);
  };
  const train = "datasets/source/train.csv";
  const evalCopy = `datasets/source/eval${extname(task.spec.eval).toLowerCase()}`;
  return {
    name: task.spec.name,
    kind: "dataset",
    scorer: task.spec.scorer,
    labels: task.spec.labels,
    train: {
      file: task.spec.train,
      copy: train,
      sha256: await copy(task.spec.train, train),
      rows: task.data.train.length,
    },
    eval: {
      file: task.spec.eval,
      copy: evalCopy,
      sha256: await copy(task.spec.eval, evalCopy),
      prompts: task.data.eval.length,
    },
  };
}

/**
 * A run's datasets from the dataset you brought (read from its copies in the run folder): nested
 * seeded subsets of the rows for `sizes`, the evaluation prompts as the sheet gives them, and the
 * expected answers written to {@link EXPECTED_FILE}.
 */
export async function datasetTaskDatasets(
  record: DatasetTaskRecord,
  runDir: string,
  opts: { sizes: readonly number[]; seed: number },
): Promise<{ sets: Map<number, RunTrainingRow[]>; evalSet: Prompt[] }> {
  const data = await readByoData(DatasetTaskSpecSchema.parse({
    kind: "dataset",
    name: record.name,
    labels: record.labels,
    train: join(runDir, record.train.copy),
    eval: join(runDir, record.eval.copy),
    scorer: record.scorer,
  }));
  const rows: RunTrainingRow[] = data.train.map((r) => ({
    id: `r${r.row}`,
    text: r.text,
    completion: r.completion,
    countries: [],
    countryCount: 0,
    continentCount: 0,
  }));
  const sets = nestedSubsets(rows, opts.sizes, opts.seed, record.train.file);
  const labels = [
    ...new Set([...data.train.map((r) => r.completion), ...data.eval.map((e) => e.answer)]),
  ];
  await writeJsonAtomic(join(runDir, EXPECTED_FILE), {
    labels: record.scorer === "label" ? labels : [],
    answers: Object.fromEntries(data.eval.map((e) => [e.prompt.id, e.answer])),
  });
  return { sets, evalSet: data.eval.map((e) => e.prompt) };
}

/** A score in the shape the country scorer gives (no mentions: nothing is resolved). */
function asAnswerScore(s: TaskScore): AnswerScore {
  return {
    missing: s.missing,
    misclassified: s.misclassified,
    extended: s.extended,
    formatError: s.formatError,
    hasError: s.hasError,
    mentions: [],
    missingCountries: [],
    misclassifiedCountries: [],
    groups: 0,
  };
}

/** Scores a journal record of a run with a dataset you bring, by the run's scorer. */
export async function datasetTaskScorer(
  record: DatasetTaskRecord,
  runDir: string,
): Promise<{
  score: (answer: AnswerRecord) => AnswerScore;
  /** For `label`: the expected label and the label the answer named. */
  label?: (answer: AnswerRecord) => { expected: string; answered: string | null };
}> {
  let expected: z.infer<typeof ExpectedFileSchema>;
  try {
    expected = ExpectedFileSchema.parse(
      JSON.parse(await Deno.readTextFile(join(runDir, EXPECTED_FILE))),
    );
  } catch (e) {
    throw new TaskError(`${join(runDir, EXPECTED_FILE)}: ${(e as Error).message.split("\n")[0]}`);
  }
  const answerOf = (a: AnswerRecord) => {
    const want = expected.answers[a.prompt.id];
    if (want === undefined) {
      throw new TaskError(`prompt ${a.prompt.id} has no expected answer in ${EXPECTED_FILE}`);
    }
    return want;
  };
  const text = (a: AnswerRecord) => a.text ?? "";
  if (record.scorer === "exact") {
    return { score: (a) => asAnswerScore(scoreExact(answerOf(a), text(a))) };
  }
  if (record.scorer === "label") {
    const scorer = labelScorer(expected.labels);
    // The verdict and the label outcome come from one scoring of each answer.
    const scored = new WeakMap<AnswerRecord, LabelScore>();
    const scoreOnce = (a: AnswerRecord) => {
      let s = scored.get(a);
      if (!s) scored.set(a, s = scorer.score(answerOf(a), text(a)));
      return s;
    };
    return { score: (a) => asAnswerScore(scoreOnce(a)), label: scoreOnce };
  }
  return { score: (a) => scoreGroupingAgainst(answerOf(a), text(a), `prompt ${a.prompt.id}`) };
}
