/**
 * Scores one model answer against the countries the prompt asked about: parses the answer into
 * `continent: country, …` groups, resolves every label and item through the country taxonomy and
 * counts the cookbook's three error kinds — missing (누락), misclassified (오분류) and extended
 * (확장) — plus a format error when nothing could be parsed.
 *
 * The rules (issue 5, "Scoring"):
 * 1. A group is a line `LABEL: item, item, …` (or `：`; the first colon outside parentheses, so
 *    a note such as `(수도: 파리)` makes no label). The label may carry markdown (`**`, `#`,
 *    `-`, `*`, `•`) or numbering (`1.`, `1)`). A label line with nothing after the colon takes the
 *    bullet lines under it (`- x`, `* x`, `• x`, `1. x`, `1) x`; blank lines in between are
 *    skipped, any other line ends the block) as its items. Items split on `,` `、` `，` `·` (never
 *    inside parentheses; a piece whose whole text names an entity, such as
 *    `보스니아·헤르체고비나`, is not split on `·`); trailing `.`/`。` and parenthetical notes are
 *    stripped; `없음`,
 *    `해당 없음`, `-` and empty items mean no item. Lines without a colon that are not bullets
 *    under such a label (preambles, prose) are not groups.
 * 2. A label resolves to one of the six continents via `Taxonomy.resolveContinent`; a label that
 *    resolves to none (중동, 기타, a preamble ending in a colon) still holds mentions, under no
 *    continent — every asked country found there counts as misclassified.
 * 3. Each item resolves through `Taxonomy.resolve` to a country, a known non-member, or nothing.
 * 4. Per asked country: no mention → missing; some mention not under its own continent →
 *    misclassified; otherwise correct.
 * 5. extended = mentions that are not asked countries + repeat mentions of an asked country.
 * 6. No group parsed → `formatError`, and every asked country is missing.
 * 7. `hasError` = `formatError` or any count above zero.
 *
 * What counts as "a group parsed" (rule 6): a label line whose label resolves to a continent, or
 * any label line that holds at least one item. An empty group under an unresolved label — such as
 * the preamble `다음과 같습니다:` followed only by prose — is not a group, so an answer made only of
 * a preamble ending in a colon and prose is a format error. `아시아: 없음` is a group (the model
 * answered in the format and said "none").
 *
 * @module
 */

import { stringify } from "csv-stringify/sync";
import { parse } from "csv-parse/sync";
import { z } from "zod";
import type { Continent } from "./cookbook.ts";
import { getTaxonomy, type Resolution, type Taxonomy } from "./countries.ts";
import { readJournal } from "./journal.ts";

/** How one parsed item resolved. */
export type MentionKind = "asked-country" | "other-country" | "non-member" | "unknown";

/**
 * What one mention counts as: the first mention of an asked country is `correct` (under its own
 * continent) or `misplaced`; later mentions of it are `repeat`; anything else is `extended`.
 */
export type MentionStatus = "correct" | "misplaced" | "repeat" | "extended";

/** One item the parser found in an answer, and how it was judged. */
export interface Mention {
  /** The item as written in the answer (trimmed, before stripping notes and punctuation). */
  raw: string;
  /** The cleaned item text that was looked up. */
  text: string;
  /** 1-based line number of the item in the answer. */
  line: number;
  /** The group label, markdown and numbering removed. */
  label: string;
  /** The continent the label resolved to, or null (중동, 기타, a preamble …). */
  labelContinent: Continent | null;
  /** How the item resolved. */
  kind: MentionKind;
  /** ISO code of the resolved country or non-member, null when unknown. */
  code: string | null;
  /** Canonical Korean name of the resolved country or non-member, null when unknown. */
  name: string | null;
  /** The resolved country's own continent (null for non-members and unknown strings). */
  continent: Continent | null;
  /** For countries: whether this mention sits under the country's own continent; else null. */
  inOwnContinent: boolean | null;
  /** What the mention counts as (see {@link MentionStatus}). */
  status: MentionStatus;
}

/** The score of one answer. */
export interface AnswerScore {
  /** Asked countries never mentioned. */
  missing: number;
  /** Asked countries mentioned, but not every mention under their own continent. */
  misclassified: number;
  /** Mentions that are not asked countries, plus repeat mentions of asked countries. */
  extended: number;
  /** No group could be parsed from the answer. */
  formatError: boolean;
  /** `formatError` or any count above zero. */
  hasError: boolean;
  /** Every parsed item, in answer order. */
  mentions: Mention[];
  /** Canonical names of the asked countries that are missing, in asked order. */
  missingCountries: string[];
  /** Canonical names of the asked countries that are misclassified, in asked order. */
  misclassifiedCountries: string[];
  /** Number of groups parsed (see the module doc for what counts). */
  groups: number;
}

/** Options of {@link scoreAnswer}. */
export interface ScoreOptions {
  /** Taxonomy to resolve labels and items with; default `getTaxonomy("un")`. */
  taxonomy?: Taxonomy;
}

/** One item as parsed from an answer, before resolution. */
export interface ParsedItem {
  /** As written (trimmed). */
  raw: string;
  /** Cleaned text to look up. */
  text: string;
  /** 1-based line number. */
  line: number;
}

/** One labelled group as parsed from an answer. */
export interface ParsedGroup {
  /** Label, markdown and numbering removed. */
  label: string;
  /** Continent the label resolved to, or null. */
  continent: Continent | null;
  /** Its items, in answer order. */
  items: ParsedItem[];
}

const COLON = /[:：]/;
const BULLET = /^(?:[-*•·+‣▪◦]|\d{1,3}[.)])\s*(.*)$/;
const LEADING_MARKS = /^(?:[#>*_•·‣▪◦+\-\s]|\d{1,3}[.)](?=\s|\*|$))+/;
const NO_ITEM = new Set(["", "없음", "해당없음", "-", "–", "—", "없습니다", "n/a"]);
const SEPARATORS = new Set([",", "、", "，"]);
const HAS_PAREN = /[()（）]/;
const SEPARATOR_RE = /[,、，]/;

/** Index of the first `:`/`：` outside parentheses (a note like `(수도: 베이징)` is no label). */
function colonIndex(line: string): number {
  const first = line.search(COLON);
  if (first < 0 || !HAS_PAREN.test(line)) return first;
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "(" || ch === "（") depth++;
    else if ((ch === ")" || ch === "）") && depth > 0) depth--;
    else if (depth === 0 && (ch === ":" || ch === "：")) return i;
  }
  return -1;
}

/** Removes markdown emphasis, heading/bullet markers and numbering from a label. */
function cleanLabel(text: string): string {
  let s = text.replace(/[*`]/g, "").replace(/__/g, "");
  s = s.replace(LEADING_MARKS, "");
  s = stripParentheticals(s);
  return s.replace(/\s+/g, " ").trim();
}

/** Removes `(…)` / `（…）` notes, including an unclosed one running to the end. */
function stripParentheticals(text: string): string {
  if (!HAS_PAREN.test(text)) return text;
  let s = text;
  let prev;
  do {
    prev = s;
    s = s.replace(/\([^()]*\)|（[^（）]*）/g, " ");
  } while (s !== prev);
  return s.replace(/[(（].*$/, "").replace(/[)）]/g, " ");
}

/**
 * Splits an items string on `,` `、` `，`, never inside parentheses; then splits each piece on `·`
 * unless the whole piece names an entity (Korean writes `보스니아·헤르체고비나`,
 * `트리니다드·토바고` with a middle dot).
 */
function splitItems(text: string, names: (text: string) => boolean): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  const push = (piece: string) => {
    if (!piece.includes("·") || names(cleanItem(piece))) out.push(piece);
    else out.push(...splitOutsideParens(piece, "·"));
  };
  if (!HAS_PAREN.test(text)) {
    for (const piece of text.split(SEPARATOR_RE)) push(piece);
    return out;
  }
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(" || ch === "（") depth++;
    else if ((ch === ")" || ch === "）") && depth > 0) depth--;
    else if (depth === 0 && SEPARATORS.has(ch)) {
      push(text.slice(start, i));
      start = i + 1;
    }
  }
  push(text.slice(start));
  return out;
}

function splitOutsideParens(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(" || ch === "（") depth++;
    else if ((ch === ")" || ch === "）") && depth > 0) depth--;
    else if (depth === 0 && ch === sep) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** Cleans one item: emphasis, parenthetical notes, trailing `.`/`。`, spacing. */
function cleanItem(raw: string): string {
  let s = raw.includes("*") || raw.includes("`") ? raw.replace(/[*`]/g, "") : raw;
  s = stripParentheticals(s);
  s = s.replace(/[\s.。]+$/u, "").replace(/^[\s]+/u, "");
  return s.replace(/\s+/g, " ");
}

function isNoItem(text: string): boolean {
  if (text.length > 8) return false;
  return NO_ITEM.has(text.replace(/\s+/g, "").toLowerCase());
}

function itemsOf(text: string, line: number, taxonomy: Taxonomy): ParsedItem[] {
  const out: ParsedItem[] = [];
  const names = (t: string) => resolveCached(taxonomy, t) !== undefined;
  for (const part of splitItems(text, names)) {
    const raw = part.replace(/^[\s*]+|[\s*]+$/g, "");
    const cleaned = cleanItem(raw);
    if (isNoItem(cleaned)) continue;
    out.push({ raw, text: cleaned, line });
  }
  return out;
}

/**
 * Parses an answer into labelled groups (rule 1), resolving labels to continents (rule 2). Empty
 * groups under unresolved labels are dropped (see the module doc).
 */
export function parseGroups(
  answer: string,
  taxonomy: Taxonomy = getTaxonomy(),
): ParsedGroup[] {
  const groups: ParsedGroup[] = [];
  const lines = answer.split(/\r\n|\r|\n/);
  let open: ParsedGroup | null = null; // a label line with nothing after its colon
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const colon = colonIndex(line);
    if (colon >= 0) {
      const label = cleanLabel(line.slice(0, colon));
      const rest = line.slice(colon + 1);
      const group: ParsedGroup = {
        label,
        continent: continentCached(taxonomy, label),
        items: itemsOf(rest, i + 1, taxonomy),
      };
      groups.push(group);
      open = rest.replace(/[*_`\s]/g, "") === "" ? group : null;
      continue;
    }
    if (open) {
      const bullet = BULLET.exec(line);
      if (bullet) {
        open.items.push(...itemsOf(bullet[1], i + 1, taxonomy));
        continue;
      }
    }
    open = null; // prose ends a bullet block
  }
  return groups.filter((g) => g.continent !== null || g.items.length > 0);
}

interface LookupCache {
  items: Map<string, Resolution | null>;
  labels: Map<string, Continent | null>;
}

const lookupCaches = new WeakMap<Taxonomy, LookupCache>();
const CACHE_LIMIT = 100_000;

function cacheOf(taxonomy: Taxonomy): LookupCache {
  let cache = lookupCaches.get(taxonomy);
  if (!cache) {
    cache = { items: new Map(), labels: new Map() };
    lookupCaches.set(taxonomy, cache);
  }
  return cache;
}

/** `taxonomy.resolve`, memoised per taxonomy (answers repeat the same names a lot). */
function resolveCached(taxonomy: Taxonomy, text: string): Resolution | undefined {
  const { items } = cacheOf(taxonomy);
  let hit = items.get(text);
  if (hit === undefined) {
    hit = taxonomy.resolve(text) ?? null;
    if (items.size >= CACHE_LIMIT) items.clear();
    items.set(text, hit);
  }
  return hit ?? undefined;
}

/** `taxonomy.resolveContinent`, memoised per taxonomy. */
function continentCached(taxonomy: Taxonomy, label: string): Continent | null {
  const { labels } = cacheOf(taxonomy);
  let hit = labels.get(label);
  if (hit === undefined) {
    hit = taxonomy.resolveContinent(label) ?? null;
    if (labels.size >= CACHE_LIMIT) labels.clear();
    labels.set(label, hit);
  }
  return hit;
}

/**
 * Scores one answer against the asked countries (names, resolved through the taxonomy). Throws
 * when an asked name is not a country of the taxonomy (an input error, not a model error).
 * Duplicate asked names count once.
 */
export function scoreAnswer(
  asked: readonly string[],
  answer: string,
  options: ScoreOptions = {},
): AnswerScore {
  const taxonomy = options.taxonomy ?? getTaxonomy();
  const askedCountries = new Map<string, { name: string; continent: Continent }>();
  for (const name of asked) {
    const res = resolveCached(taxonomy, name);
    const country = res?.kind === "country" ? res.country : undefined;
    if (!country) {
      throw new Error(
        `scoreAnswer: asked country ${JSON.stringify(name)} is not a country of the ` +
          `"${taxonomy.list}" taxonomy`,
      );
    }
    askedCountries.set(country.code, { name: country.name, continent: country.continent });
  }

  const groups = parseGroups(answer, taxonomy);
  const mentions: Mention[] = [];
  const seen = new Map<string, { wrong: boolean }>();
  let extended = 0;
  for (const group of groups) {
    for (const item of group.items) {
      const res = resolveCached(taxonomy, item.text);
      const base = {
        raw: item.raw,
        text: item.text,
        line: item.line,
        label: group.label,
        labelContinent: group.continent,
      };
      if (!res) {
        extended++;
        mentions.push({
          ...base,
          kind: "unknown",
          code: null,
          name: null,
          continent: null,
          inOwnContinent: null,
          status: "extended",
        });
      } else if (res.kind === "non-member") {
        extended++;
        mentions.push({
          ...base,
          kind: "non-member",
          code: res.entity.code,
          name: res.entity.name,
          continent: null,
          inOwnContinent: null,
          status: "extended",
        });
      } else {
        const c = res.country;
        const inOwn = group.continent === c.continent;
        const isAsked = askedCountries.has(c.code);
        let status: MentionStatus;
        if (!isAsked) {
          status = "extended";
          extended++;
        } else {
          const prior = seen.get(c.code);
          if (prior) {
            status = "repeat";
            extended++;
            if (!inOwn) prior.wrong = true;
          } else {
            status = inOwn ? "correct" : "misplaced";
            seen.set(c.code, { wrong: !inOwn });
          }
        }
        mentions.push({
          ...base,
          kind: isAsked ? "asked-country" : "other-country",
          code: c.code,
          name: c.name,
          continent: c.continent,
          inOwnContinent: inOwn,
          status,
        });
      }
    }
  }

  const formatError = groups.length === 0;
  const missingCountries: string[] = [];
  const misclassifiedCountries: string[] = [];
  for (const [code, { name }] of askedCountries) {
    const s = seen.get(code);
    if (!s) missingCountries.push(name);
    else if (s.wrong) misclassifiedCountries.push(name);
  }
  const missing = missingCountries.length;
  const misclassified = misclassifiedCountries.length;
  return {
    missing,
    misclassified,
    extended,
    formatError,
    hasError: formatError || missing > 0 || misclassified > 0 || extended > 0,
    mentions,
    missingCountries,
    misclassifiedCountries,
    groups: groups.length,
  };
}

/** One scored answer; also one row of a run's `scores.csv`. */
export interface ScoreRow {
  label: string;
  model: string;
  size: number;
  promptId: string;
  repeat: number;
  countryCount: number;
  continentCount: number;
  missing: number;
  misclassified: number;
  extended: number;
  formatError: boolean;
  hasError: boolean;
}

/** The fields of a journal `AnswerRecord` (lib/journal.ts) that scoring reads. */
export interface ScorableRecord {
  label: string;
  model: string;
  size: number;
  promptId: string;
  repeat: number;
  countries: readonly string[];
  countryCount: number;
  continentCount: number;
  text: string | null;
}

/** A scored record: its row, the full score and the record it came from. */
export interface ScoredRecord<R extends ScorableRecord = ScorableRecord> {
  row: ScoreRow;
  score: AnswerScore;
  record: R;
}

/**
 * Scores journal records with their full {@link AnswerScore} (for drill-downs). Records without an
 * answer (`text === null`: the call failed) are not answers and are skipped; when a
 * (label, promptId, repeat) appears more than once (a retried line in an append-only journal), the
 * last record with an answer wins. Output order follows the first appearance of each key.
 */
export function scoreRecordsDetailed<R extends ScorableRecord>(
  records: Iterable<R>,
  options: ScoreOptions = {},
): ScoredRecord<R>[] {
  const taxonomy = options.taxonomy ?? getTaxonomy();
  const latest = new Map<string, R>();
  for (const r of records) {
    if (r.text === null) continue;
    latest.set(`${r.label}\u0000${r.promptId}\u0000${r.repeat}`, r);
  }
  const out: ScoredRecord<R>[] = [];
  for (const record of latest.values()) {
    const score = scoreAnswer(record.countries, record.text ?? "", { taxonomy });
    out.push({
      record,
      score,
      row: {
        label: record.label,
        model: record.model,
        size: record.size,
        promptId: record.promptId,
        repeat: record.repeat,
        countryCount: record.countryCount,
        continentCount: record.continentCount,
        missing: score.missing,
        misclassified: score.misclassified,
        extended: score.extended,
        formatError: score.formatError,
        hasError: score.hasError,
      },
    });
  }
  return out;
}

/** Scores journal records into `scores.csv` rows (same rules as {@link scoreRecordsDetailed}). */
export function scoreRecords(
  records: Iterable<ScorableRecord>,
  options: ScoreOptions = {},
): ScoreRow[] {
  return scoreRecordsDetailed(records, options).map((s) => s.row);
}

/** Column order of `scores.csv`. */
export const SCORE_COLUMNS = [
  "label",
  "model",
  "size",
  "promptId",
  "repeat",
  "countryCount",
  "continentCount",
  "missing",
  "misclassified",
  "extended",
  "formatError",
  "hasError",
] as const satisfies readonly (keyof ScoreRow)[];

/** Renders score rows as `scores.csv` text (header row, booleans as `true`/`false`). */
export function scoresToCsv(rows: readonly ScoreRow[]): string {
  return stringify(rows.map((r) => ({ ...r })), {
    header: true,
    columns: [...SCORE_COLUMNS],
    cast: { boolean: (v) => (v ? "true" : "false") },
  });
}

/** Writes score rows to a `scores.csv` file. */
export async function writeScoresCsv(path: string, rows: readonly ScoreRow[]): Promise<void> {
  await Deno.writeTextFile(path, scoresToCsv(rows));
}

const csvInt = z.coerce.number().int();
const csvBool = z.enum(["true", "false"]).transform((v) => v === "true");
const ScoreRowCsv = z.object({
  label: z.string().min(1),
  model: z.string().min(1),
  size: csvInt.nonnegative(),
  promptId: z.string().min(1),
  repeat: csvInt.nonnegative(),
  countryCount: csvInt.nonnegative(),
  continentCount: csvInt.nonnegative(),
  missing: csvInt.nonnegative(),
  misclassified: csvInt.nonnegative(),
  extended: csvInt.nonnegative(),
  formatError: csvBool,
  hasError: csvBool,
});

/** Reads a `scores.csv` back, validated; errors name the file and the data row. */
export async function readScoresCsv(path: string): Promise<ScoreRow[]> {
  const text = await Deno.readTextFile(path);
  const records = parse(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<
    string,
    string
  >[];
  return records.map((rec, i) => {
    const parsed = ScoreRowCsv.safeParse(rec);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `${path}: row ${i + 2}, column ${String(issue.path[0] ?? "?")}: ${issue.message}`,
      );
    }
    return parsed.data;
  });
}

/** What {@link scoreRun} did. */
export interface ScoreRunResult {
  /** One row per answer, journals in file-name order. */
  rows: ScoreRow[];
  /** The same answers with their full scores and journal records (for drill-downs). */
  scored: ScoredRecord[];
  /** The journal files read (`answers/*.jsonl`, sorted). */
  journals: string[];
  /** Journal records without an answer (failed calls), not scored. */
  failed: number;
  /** Where `scores.csv` was written. */
  scoresPath: string;
}

/**
 * Re-scores a finished run from its journals without calling any model: reads every
 * `answers/*.jsonl` of `runDir`, scores each answer and writes `scores.csv` into `runDir`.
 */
export async function scoreRun(
  runDir: string,
  options: ScoreOptions = {},
): Promise<ScoreRunResult> {
  const answersDir = `${runDir}/answers`;
  const journals: string[] = [];
  try {
    for await (const entry of Deno.readDir(answersDir)) {
      if (entry.isFile && entry.name.endsWith(".jsonl")) {
        journals.push(`${answersDir}/${entry.name}`);
      }
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${runDir}: no answers/ folder — is this a run folder (results/<run-id>)?`);
    }
    throw e;
  }
  journals.sort();
  const scored: ScoredRecord[] = [];
  let failed = 0;
  for (const path of journals) {
    const records = await readJournal(path);
    failed += records.filter((r) => r.text === null).length;
    scored.push(...scoreRecordsDetailed(records, options));
  }
  const rows = scored.map((s) => s.row);
  const scoresPath = `${runDir}/scores.csv`;
  await writeScoresCsv(scoresPath, rows);
  return { rows, scored, journals, failed, scoresPath };
}
