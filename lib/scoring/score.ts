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
import { join } from "node:path";
import type { Continent } from "../cookbook.ts";
import { type Country, getTaxonomy, type Resolution, type Taxonomy } from "../countries/mod.ts";
import { journalRecords, scanJournal } from "../answers/mod.ts";
import { writeFileAtomic } from "../io/mod.ts";
import { csvCell, readCsvCell } from "../sheets/mod.ts";
import {
  type AnswerRecord,
  AnswerScoreSchema,
  type JournalSummary,
  MentionSchema,
  RUN_FILES,
  SCORE_COLUMNS,
  type ScoredAnswer,
  type ScoreRow,
  scoreRow,
  ScoreRowSchema,
} from "../run/mod.ts";

export { SCORE_COLUMNS, scoreRow };
export type { ScoredAnswer, ScoreRow };

/** One item the parser found in an answer, and how it was judged (see `MentionSchema`). */
export type Mention = z.infer<typeof MentionSchema>;

/** How one parsed item resolved. */
export type MentionKind = Mention["kind"];

/**
 * What one mention counts as: the first mention of an asked country is `correct` (under its own
 * continent) or `misplaced`; later mentions of it are `repeat`; anything else is `extended`.
 */
export type MentionStatus = Mention["status"];

/** The score of one answer (see `AnswerScoreSchema`). */
export type AnswerScore = z.infer<typeof AnswerScoreSchema>;

/** Options of {@link scoreAnswer}. */
export interface ScoreOptions {
  /** Taxonomy to resolve labels and items with; default `getTaxonomy("un")`. */
  taxonomy?: Taxonomy;
  /**
   * Scores a journal record in place of the country scorer (a run whose task brings its own
   * expected answers scores each against its prompt's).
   */
  score?: (record: AnswerRecord) => AnswerScore;
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
const HAS_PAREN = /[()（）]/;
const LINE_BREAK = /\r\n|\r|\n/;
/** Only emphasis and spacing: what is left after a label's colon when bullets follow. */
const EMPTY_REST = /^[*_`\s]*$/;

/** Whether the UTF-16 code unit `c` is white space, as `\s` and `String.prototype.trim` see it. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) ||
    (c > 0x7f && String.fromCharCode(c).trim() === "");
}

/**
 * `s` without leading code units for which `drop` holds and trailing ones for which `dropEnd`
 * holds: one pass from each end (a regex like `[\s*]+$` retries at every position of a long run
 * it cannot finish, which is quadratic).
 */
function trimWhere(
  s: string,
  drop: (c: number) => boolean,
  dropEnd: (c: number) => boolean = drop,
): string {
  let start = 0;
  let end = s.length;
  while (start < end && drop(s.charCodeAt(start))) start++;
  while (end > start && dropEnd(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

const isSpaceOrStar = (c: number) => c === 0x2a || isSpace(c); // *
const isSpaceOrStop = (c: number) => c === 0x2e || c === 0x3002 || isSpace(c); // . 。

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
  for (const piece of splitOutsideParens(text, isItemSeparator)) {
    if (!piece.includes("·") || names(cleanItem(piece))) out.push(piece);
    else out.push(...splitOutsideParens(piece, isMiddleDot));
  }
  return out;
}

const isItemSeparator = (c: number) => c === 0x2c || c === 0x3001 || c === 0xff0c; // , 、 ，
const isMiddleDot = (c: number) => c === 0xb7; // ·

/** Splits `text` at the code units `isSeparator` accepts that are outside `(…)` / `（…）`. */
function splitOutsideParens(text: string, isSeparator: (c: number) => boolean): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x28 || c === 0xff08) depth++; // ( （
    else if ((c === 0x29 || c === 0xff09) && depth > 0) depth--; // ) ）
    else if (depth === 0 && isSeparator(c)) {
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
  s = trimWhere(s, isSpace, isSpaceOrStop);
  return s.replace(/\s+/g, " ");
}

function isNoItem(text: string): boolean {
  if (text.length > 8) return false;
  return NO_ITEM.has(text.replace(/\s+/g, "").toLowerCase());
}

/** Entries a memo may hold before it starts again (bounds memory on endless distinct input). */
const CACHE_LIMIT = 100_000;

/**
 * Values computed from strings, kept for the next time the same string comes (at most
 * {@link CACHE_LIMIT}, then it starts again). The store is a prototype-less object, not a `Map`:
 * scoring looks up millions of strings just cut from answers, and V8 finds such a string among an
 * object's keys in about half the time a `Map` takes to hash it.
 */
class Memo<V> {
  #values: Record<string, V> = Object.create(null);
  #size = 0;

  constructor(readonly compute: (key: string) => V) {}

  /** The value for `key`, computed on first use. */
  get(key: string): V {
    let value = this.#values[key];
    if (value === undefined) {
      value = this.compute(key);
      if (++this.#size > CACHE_LIMIT) {
        this.#values = Object.create(null);
        this.#size = 1;
      }
      this.#values[key] = value;
    }
    return value;
  }
}

/**
 * One item as scoring sees it: the piece as written (trimmed), cleaned, and what it names. Made
 * once per distinct piece and shared by every answer that holds it.
 */
interface Item {
  raw: string;
  text: string;
  resolution: Resolution | undefined;
}

/** A label as written before its colon, cleaned and resolved. */
interface CleanLabel {
  label: string;
  continent: Continent | null;
}

/** A group as scoring sees it: its items (shared) and, by position, their line numbers. */
interface Group extends CleanLabel {
  items: Item[];
  lines: number[];
}

/**
 * Everything scoring looks up, memoised per taxonomy: answers repeat the same few hundred names,
 * labels and pieces. `resolutions` starts with every name and alias the taxonomy knows (its alias
 * index, resolved once), so most names are found without normalising them.
 */
interface Lookups {
  taxonomy: Taxonomy;
  /** Item text → what it names (null: nothing). */
  resolutions: Memo<Resolution | null>;
  /** Label text before the colon → cleaned label and continent. */
  labels: Memo<CleanLabel>;
  /** Piece of an items string → its item (null: it means no item). */
  items: Memo<Item | null>;
}

const lookupsByTaxonomy = new WeakMap<Taxonomy, Lookups>();

function lookupsOf(taxonomy: Taxonomy): Lookups {
  let lookups = lookupsByTaxonomy.get(taxonomy);
  if (!lookups) {
    const resolutions = new Memo((text) => taxonomy.resolve(text) ?? null);
    const names = [
      ...taxonomy.countries.flatMap((c) => [c.name, ...c.aliases, c.nameEn]),
      ...taxonomy.nonMembers.flatMap((n) => [n.name, ...n.aliases, n.nameEn]),
    ];
    for (const name of names) resolutions.get(name);
    const labels = new Memo((text): CleanLabel => {
      const label = cleanLabel(text);
      return { label, continent: taxonomy.resolveContinent(label) ?? null };
    });
    const items = new Memo((piece): Item | null => {
      const raw = trimWhere(piece, isSpaceOrStar);
      const text = cleanItem(raw);
      return isNoItem(text) ? null : { raw, text, resolution: resolutions.get(text) ?? undefined };
    });
    lookups = { taxonomy, resolutions, labels, items };
    lookupsByTaxonomy.set(taxonomy, lookups);
  }
  return lookups;
}

/** `taxonomy.resolve`, memoised. */
function resolve(lookups: Lookups, text: string): Resolution | undefined {
  return lookups.resolutions.get(text) ?? undefined;
}

/** Adds the items of an items string on line `line` to `group`. */
function addItems(group: Group, text: string, line: number, lookups: Lookups): void {
  const names = (t: string) => resolve(lookups, t) !== undefined;
  for (const piece of splitItems(text, names)) {
    const item = lookups.items.get(piece);
    if (item) {
      group.items.push(item);
      group.lines.push(line);
    }
  }
}

/**
 * Parses an answer into labelled groups (rule 1), resolving labels to continents (rule 2). Empty
 * groups under unresolved labels are dropped (see the module doc).
 */
export function parseGroups(
  answer: string,
  taxonomy: Taxonomy = getTaxonomy(),
): ParsedGroup[] {
  return parseWith(answer, lookupsOf(taxonomy)).map(({ label, continent, items, lines }) => ({
    label,
    continent,
    items: items.map(({ raw, text }, i) => ({ raw, text, line: lines[i] })),
  }));
}

function parseWith(answer: string, lookups: Lookups): Group[] {
  const groups: Group[] = [];
  const lines = answer.split(LINE_BREAK);
  let open: Group | null = null; // a label line with nothing after its colon
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const colon = colonIndex(line);
    if (colon >= 0) {
      const { label, continent } = lookups.labels.get(line.slice(0, colon));
      const rest = line.slice(colon + 1);
      const group: Group = { label, continent, items: [], lines: [] };
      addItems(group, rest, i + 1, lookups);
      groups.push(group);
      open = EMPTY_REST.test(rest) ? group : null;
      continue;
    }
    if (open) {
      const bullet = BULLET.exec(line);
      if (bullet) {
        addItems(open, bullet[1], i + 1, lookups);
        continue;
      }
    }
    open = null; // prose ends a bullet block
  }
  return groups.filter((g) => g.continent !== null || g.items.length > 0);
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
  const lookups = lookupsOf(taxonomy);
  /** The asked countries, each once, in asked order. */
  const askedCountries: Country[] = [];
  for (const name of asked) {
    const res = resolve(lookups, name);
    const country = res?.kind === "country" ? res.country : undefined;
    if (!country) {
      throw new Error(
        `scoreAnswer: asked country ${JSON.stringify(name)} is not a country of the ` +
          `"${taxonomy.list}" taxonomy`,
      );
    }
    if (!askedCountries.includes(country)) askedCountries.push(country);
  }

  const groups = parseWith(answer, lookups);
  const mentions: Mention[] = [];
  /**
   * By index in `askedCountries`: `undefined` while not mentioned, then whether some mention is
   * not under the country's own continent.
   */
  const wrong: (boolean | undefined)[] = askedCountries.map(() => undefined);
  let extended = 0;
  for (const group of groups) {
    for (let i = 0; i < group.items.length; i++) {
      const item = group.items[i];
      const res = item.resolution;
      let kind: MentionKind;
      let code: string | null = null;
      let name: string | null = null;
      let continent: Continent | null = null;
      let inOwnContinent: boolean | null = null;
      let status: MentionStatus = "extended";
      if (!res) {
        kind = "unknown";
        extended++;
      } else if (res.kind === "non-member") {
        kind = "non-member";
        code = res.entity.code;
        name = res.entity.name;
        extended++;
      } else {
        const c = res.country;
        code = c.code;
        name = c.name;
        continent = c.continent;
        inOwnContinent = group.continent === c.continent;
        const a = askedCountries.indexOf(c);
        kind = a >= 0 ? "asked-country" : "other-country";
        if (a < 0) {
          extended++;
        } else if (wrong[a] !== undefined) {
          status = "repeat";
          extended++;
          if (!inOwnContinent) wrong[a] = true;
        } else {
          status = inOwnContinent ? "correct" : "misplaced";
          wrong[a] = !inOwnContinent;
        }
      }
      mentions.push({
        raw: item.raw,
        text: item.text,
        line: group.lines[i],
        label: group.label,
        labelContinent: group.continent,
        kind,
        code,
        name,
        continent,
        inOwnContinent,
        status,
      });
    }
  }

  const formatError = groups.length === 0;
  const missingCountries: string[] = [];
  const misclassifiedCountries: string[] = [];
  askedCountries.forEach(({ name }, a) => {
    if (wrong[a] === undefined) missingCountries.push(name);
    else if (wrong[a]) misclassifiedCountries.push(name);
  });
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

/**
 * Scores one journal record: the record itself with its verdict beside it. Throws for a record
 * without an answer (`text === null`) and, naming the prompt, for an asked country the taxonomy
 * does not know.
 */
export function scoreRecord(record: AnswerRecord, options: ScoreOptions = {}): ScoredAnswer {
  if (record.text === null) throw new Error(`prompt ${record.prompt.id} has no answer to score`);
  let score: AnswerScore;
  try {
    score = options.score
      ? options.score(record)
      : scoreAnswer(record.prompt.countries, record.text, options);
  } catch (e) {
    throw new Error(`prompt ${record.prompt.id}: ${(e as Error).message}`);
  }
  return { record, score };
}

const CSV_CAST = { boolean: (v: boolean) => (v ? "true" : "false") };

function csvRecords(answers: readonly ScoredAnswer[]): (string | number | boolean)[][] {
  return answers.map((a) => {
    const r = scoreRow(a);
    return SCORE_COLUMNS.map((c) => {
      const v = r[c];
      return typeof v === "string" ? csvCell(v) : v;
    });
  });
}

/**
 * Renders scored answers as `scores.csv` text (one {@link ScoreRow} each): a header row, booleans
 * as `true`/`false`, text cells neutralised against formula injection (reversibly:
 * {@link readScoresCsv} restores them).
 */
export function scoresToCsv(answers: readonly ScoredAnswer[], header = true): string {
  return stringify(csvRecords(answers), {
    header,
    columns: [...SCORE_COLUMNS],
    cast: CSV_CAST,
  });
}

const csvInt = z.coerce.number().int();
const csvBool = z.enum(["true", "false"]).transform((v) => v === "true");
const csvText = z.string().transform(readCsvCell);
const ScoreRowCsv = z.object(
  Object.fromEntries(
    Object.entries(ScoreRowSchema.shape).map(([k, schema]) => [
      k,
      schema instanceof z.ZodBoolean
        ? csvBool
        : schema instanceof z.ZodString
        ? csvText.pipe(schema)
        : csvInt.pipe(schema as z.ZodNumber),
    ]),
  ),
);

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
    return parsed.data as ScoreRow;
  });
}

/** What {@link scoreRun} did. */
export interface ScoreRunResult {
  /** Per journal (`answers/*.jsonl`, by file name): answers scored and failures skipped. */
  journals: JournalSummary[];
  /** Answers scored, all journals. */
  answers: number;
  /** Journal records without an answer (failed calls), not scored. */
  failed: number;
  /** Where `scores.csv` was written. */
  scoresPath: string;
}

/** The journals of a run folder (`answers/*.jsonl`), sorted by file name. */
export async function runJournals(runDir: string): Promise<string[]> {
  const answersDir = join(runDir, "answers");
  const journals: string[] = [];
  try {
    for await (const entry of Deno.readDir(answersDir)) {
      if (entry.isFile && entry.name.endsWith(".jsonl")) journals.push(entry.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${runDir}: no answers/ folder — is this a run folder (results/<run-id>)?`);
    }
    throw e;
  }
  return journals.sort().map((name) => `answers/${name}`);
}

/**
 * Scores every answer of a run's journals (`answers/*.jsonl`, by file name; one record per key,
 * see `lib/answers/journal.ts`) as it streams them, writing nothing: yields each answer once,
 * scored, in journal order. Records without an answer (failed calls) are skipped and counted in
 * `counts`, which gets one entry per journal as it is read.
 */
export async function* scoreJournals(
  runDir: string,
  options: ScoreOptions = {},
  counts: JournalSummary[] = [],
): AsyncGenerator<ScoredAnswer> {
  for (const file of await runJournals(runDir)) {
    const path = join(runDir, file);
    const entry = { label: file.replace(/^answers\/|\.jsonl$/g, ""), file, answered: 0, failed: 0 };
    counts.push(entry);
    for await (const rec of journalRecords(await scanJournal(path))) {
      if (rec.text === null) {
        entry.failed++;
        continue;
      }
      let scored: ScoredAnswer;
      try {
        scored = scoreRecord(rec, options);
      } catch (e) {
        throw new Error(`${path}: ${(e as Error).message}`);
      }
      entry.label = rec.label;
      entry.answered++;
      yield scored;
    }
  }
}

/**
 * Re-scores a run from its journals without calling any model ({@link scoreJournals}) and writes
 * `scores.csv` (atomically, as a stream) into `outDir` (default: the run folder). Memory stays
 * flat whatever the number of answers, unless `onScored` keeps them.
 */
export async function scoreRun(
  runDir: string,
  options: ScoreOptions & {
    outDir?: string;
    /** Sees every scored answer as it is scored. */
    onScored?: (answer: ScoredAnswer) => void;
  } = {},
): Promise<ScoreRunResult> {
  const journals: JournalSummary[] = [];
  const encoder = new TextEncoder();
  const scoresPath = join(options.outDir ?? runDir, RUN_FILES.scores);
  async function* csv(): AsyncGenerator<Uint8Array> {
    yield encoder.encode(scoresToCsv([], true));
    let batch: ScoredAnswer[] = [];
    for await (const scored of scoreJournals(runDir, options, journals)) {
      options.onScored?.(scored);
      batch.push(scored);
      if (batch.length >= 1000) {
        yield encoder.encode(scoresToCsv(batch, false));
        batch = [];
      }
    }
    if (batch.length) yield encoder.encode(scoresToCsv(batch, false));
  }
  await writeFileAtomic(scoresPath, csv());
  return {
    journals,
    answers: journals.reduce((n, j) => n + j.answered, 0),
    failed: journals.reduce((n, j) => n + j.failed, 0),
    scoresPath,
  };
}
