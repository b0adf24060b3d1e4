/**
 * Scorers for any task.
 *
 * - `grouping`: an answer of `group: a, b` blocks, scored as the country task is (missing,
 *   misclassified and extended items, format errors) by the country scorer (`../score.ts`) run
 *   over the task's taxonomy. A taxonomy task scores against its taxonomy with its aliases; a
 *   bring-your-own row scores against the groups of its own expected answer.
 * - `label`: the answer names one label; right when it is the expected one. The answer is read as
 *   the label it names (the whole answer, or the one known label it holds); an answer naming no
 *   known label, or several, is a format error. {@link confusionTable} counts expected × answered.
 * - `exact`: the answer, normalised (Unicode NFKC, case folded, white space collapsed, trailing
 *   full stops dropped), equals the expected answer normalised the same way.
 *
 * Every scorer gives the counts a `scores.csv` row holds, so every statistic downstream reads
 * them the same way: `hasError` is what the error rate counts.
 *
 * @module
 */
import type { Continent } from "../cookbook.ts";
import {
  type Country,
  getTaxonomy,
  normalizeName,
  type Resolution,
  type Taxonomy,
  type TaxonomyListName,
} from "../countries/mod.ts";
import { type AnswerScore, scoreAnswer } from "../scoring/mod.ts";
import { TaskError } from "../run/mod.ts";
import { buildTaxonomy, type TaskTaxonomy } from "./taxonomy.ts";
import type { TaxonomyTask } from "./task.ts";

/** The counts one answer gets, whatever the scorer: the counts of its verdict. */
export type TaskScore = Pick<
  AnswerScore,
  "missing" | "misclassified" | "extended" | "formatError" | "hasError"
>;

const scoringTaxonomies = new WeakMap<TaskTaxonomy, Taxonomy>();

/**
 * The country scorer's look-up API over a task taxonomy: each item is a "country" whose
 * "continent" is its group, and group labels resolve through the task's groups (a trailing group
 * word, such as `분류` in `금속 분류`, is allowed, as `대륙` is after a continent). The scorer only
 * compares groups by identity, so any group name serves where it expects a continent; `list`
 * carries the taxonomy's name for its messages. The country task uses the country taxonomy
 * itself, with its non-member entities.
 */
export function scoringTaxonomy(task: Pick<TaxonomyTask, "taxonomy" | "labels">): Taxonomy {
  const t = task.taxonomy;
  if (t.name === "countries") return getTaxonomy("un");
  let found = scoringTaxonomies.get(t);
  if (found) return found;
  const countries: Country[] = t.items.map((it, i) =>
    Object.freeze({
      code: String(i),
      name: it.name,
      nameEn: it.name,
      continent: it.group as Continent,
      aliases: it.aliases,
      inCookbook: true,
    })
  );
  const byName = new Map(countries.map((c) => [c.name, c]));
  const resolve = (text: string): Resolution | undefined => {
    const item = t.resolveItem(text);
    return item ? { kind: "country", country: byName.get(item.name)! } : undefined;
  };
  const suffix = normalizeName(task.labels.group);
  found = Object.freeze({
    list: t.name as TaxonomyListName,
    countries: Object.freeze(countries),
    nonMembers: Object.freeze([]),
    droppedAliases: t.droppedAliases,
    resolveCountry: (text: string) => {
      const item = t.resolveItem(text);
      return item ? byName.get(item.name) : undefined;
    },
    resolve,
    countriesOf: (group: Continent) => countries.filter((c) => c.continent === group),
    resolveContinent: (label: string) => {
      const key = normalizeName(label);
      const group = t.resolveGroup(key) ??
        (suffix && key.endsWith(suffix) ? t.resolveGroup(key.slice(0, -suffix.length)) : undefined);
      return group as Continent | undefined;
    },
  }) as Taxonomy;
  scoringTaxonomies.set(t, found);
  return found;
}

/** Scores a taxonomy task's answer against the asked items (full detail, as the country scorer). */
export function scoreTaskAnswer(
  task: TaxonomyTask,
  asked: readonly string[],
  answer: string,
): AnswerScore {
  return scoreAnswer(asked, answer, { taxonomy: scoringTaxonomy(task) });
}

/** The blocks of an expected `group: a, b` answer, after an optional first line that is no block. */
function expectedGroups(expected: string, where: string): { item: string; group: string }[] {
  const entries: { item: string; group: string }[] = [];
  for (const line of expected.split(/\r\n|\r|\n/)) {
    const m = /^\s*([^:：\n]+?)\s*[:：]\s*(.*)$/.exec(line);
    if (!m) continue;
    for (const item of m[2].split(/[,、，]/).map((s) => s.trim()).filter(Boolean)) {
      entries.push({ item, group: m[1] });
    }
  }
  if (entries.length === 0) {
    throw new TaskError(`${where}: the expected answer has no "group: item, item" line`);
  }
  return entries;
}

/**
 * Scores an answer against an expected `group: a, b` answer (a bring-your-own row scored with
 * `grouping`): the asked items are the expected answer's, the taxonomy is its blocks.
 */
export function scoreGroupingAgainst(
  expected: string,
  answer: string,
  where = "expected answer",
): AnswerScore {
  const entries = expectedGroups(expected, where);
  let taxonomy: TaskTaxonomy;
  try {
    taxonomy = buildTaxonomy(entries, { name: "expected" });
  } catch (e) {
    throw new TaskError(`${where}: ${(e as Error).message.replace(/^expected: entry \d+: /, "")}`);
  }
  return scoreAnswer(entries.map((e) => e.item), answer, {
    taxonomy: scoringTaxonomy({ taxonomy, labels: { item: "항목", group: "분류" } }),
  });
}

/** A text normalised for `exact`: NFKC, case folded, white space collapsed, no trailing `.`/`。`. */
export function normalizeAnswer(text: string): string {
  return text.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim().replace(/[.。]+$/u, "")
    .trim();
}

/** The `exact` score of one answer. */
export function scoreExact(expected: string, answer: string): TaskScore {
  const formatError = answer.trim() === "";
  return oneAnswerScore(
    formatError,
    !formatError && normalizeAnswer(answer) !== normalizeAnswer(expected),
  );
}

/** The counts of an answer that is one thing: unreadable (one missing) or wrong (one misclassified). */
function oneAnswerScore(formatError: boolean, wrong: boolean): TaskScore {
  return {
    missing: formatError ? 1 : 0,
    misclassified: wrong ? 1 : 0,
    extended: 0,
    formatError,
    hasError: formatError || wrong,
  };
}

/** The `label` score of one answer: the counts, the expected label and the label answered. */
export interface LabelScore extends TaskScore {
  expected: string;
  /** The known label the answer names; null when it names none or several. */
  answered: string | null;
}

/** A `label` scorer over a set of known labels (the training and evaluation labels). */
export interface LabelScorer {
  /** The known labels, as given (first spelling of each). */
  readonly labels: readonly string[];
  /** Scores one answer against the expected label. */
  score(expected: string, answer: string): LabelScore;
}

/** Makes a `label` scorer over `labels` (matched with `normalizeName`: case, spacing, punctuation). */
export function labelScorer(labels: Iterable<string>): LabelScorer {
  const byKey = new Map<string, string>();
  for (const l of labels) {
    const key = normalizeName(l);
    if (key && !byKey.has(key)) byKey.set(key, l.trim());
  }
  // Longer labels first, so that a label inside another (`cat` in `wildcat`) is not also found.
  const keys = [...byKey.keys()].sort((a, b) => b.length - a.length);
  const answeredLabel = (answer: string): string | null => {
    const whole = normalizeName(answer);
    const exact = byKey.get(whole);
    if (exact !== undefined) return exact;
    const found: string[] = [];
    let rest = whole;
    for (const key of keys) {
      if (rest.includes(key)) {
        found.push(byKey.get(key)!);
        rest = rest.replaceAll(key, "\u0000");
      }
    }
    return found.length === 1 ? found[0] : null;
  };
  return {
    labels: Object.freeze([...byKey.values()]),
    score(expected: string, answer: string): LabelScore {
      const answered = answeredLabel(answer);
      const formatError = answered === null;
      const wrong = !formatError && normalizeName(answered) !== normalizeName(expected);
      return {
        ...oneAnswerScore(formatError, wrong),
        expected: byKey.get(normalizeName(expected)) ?? expected.trim(),
        answered,
      };
    },
  };
}

/** Expected × answered label counts; `answered` null is the column `(none)`. */
export interface ConfusionTable {
  /** Row and column labels (expected labels first seen order, then answered ones). */
  labels: string[];
  /** `counts[expected][answered or "(none)"]`. */
  counts: Record<string, Record<string, number>>;
}

/** The confusion table of `label` scores. */
export function confusionTable(
  scores: Iterable<Pick<LabelScore, "expected" | "answered">>,
): ConfusionTable {
  const labels: string[] = [];
  const counts: Record<string, Record<string, number>> = {};
  const see = (l: string) => {
    if (!labels.includes(l)) labels.push(l);
  };
  for (const s of scores) {
    see(s.expected);
    if (s.answered !== null) see(s.answered);
    const row = counts[s.expected] ??= {};
    const col = s.answered ?? "(none)";
    row[col] = (row[col] ?? 0) + 1;
  }
  return { labels, counts };
}
