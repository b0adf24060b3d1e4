/**
 * Where the errors are, per country and per continent, from scored answers: how often each asked
 * country was missing or misclassified (and under which continent it was put), which names were
 * invented (mentioned though not asked), and the continent-by-continent confusion table.
 *
 * Counting rules (consistent with `lib/scoring/score.ts`): each asked country of an answer counts once —
 * missing when never mentioned; misclassified when some mention of it is not under its own
 * continent, placed at the continent of its *first* such mention (or "other label" when that
 * label names no continent, such as 중동); correct otherwise. So in the confusion table a row's
 * off-diagonal cells sum to the row's misclassified count, and diagonal + off-diagonal + missing
 * = asked.
 *
 * @module
 */
import { type Continent, CONTINENTS } from "../../cookbook.ts";
import { getTaxonomy, type Taxonomy } from "../../countries/mod.ts";
import type { Mention } from "../../scoring/mod.ts";
import type { ScoredAnswer } from "../../run/mod.ts";

/** Options of {@link countryErrors}. */
export interface CountryErrorsOptions {
  /**
   * Whether the answers' mentions name asked items (default true). False for a dataset you bring:
   * its mentions resolve against each expected answer, not the taxonomy, so they are not read.
   */
  mentions?: boolean;
}

/**
 * Where a misplaced country was put: a continent (a group of the run's task), or a label that
 * names none (`other label`).
 */
export type Placement = Continent | "other label" | (string & Record<never, never>);

/** Columns of the confusion table: the six continents, a label naming none, and missing. */
export const CONFUSION_COLUMNS: readonly (Placement | "missing")[] = [
  ...CONTINENTS,
  "other label",
  "missing",
];

/** One country at one model × size. */
export interface CountryErrorRow {
  model: string;
  size: number;
  code: string;
  /** Canonical Korean name. */
  country: string;
  /** Its continent (its group, in a task's taxonomy). */
  continent: string;
  /** Answers that asked it. */
  asked: number;
  missing: number;
  misclassified: number;
  /** (missing + misclassified) / asked. */
  errorRate: number;
  /** Where its misclassified answers put it. */
  placedUnder: Partial<Record<Placement, number>>;
  /** Answers that named it although it was not asked. */
  invented: number;
}

/** A name invented (mentioned, not asked) at one model × size: a country, non-member or text. */
export interface InventedRow {
  model: string;
  size: number;
  /** Canonical name for countries and non-members, the cleaned text otherwise. */
  name: string;
  kind: "country" | "non-member" | "unknown";
  /** Mentions of it in answers that did not ask it. */
  mentions: number;
  /** Answers with at least one such mention. */
  answers: number;
}

/** The continent-by-continent confusion table of one model × size. */
export interface ConfusionTable {
  model: string;
  size: number;
  /** True continents, in the cookbook's order (a task's groups, in its taxonomy's order). */
  rows: readonly string[];
  columns: readonly (Placement | "missing")[];
  /** counts[row][column]. */
  counts: number[][];
}

/** Everything {@link countryErrors} computes. */
export interface CountryErrorTables {
  countries: CountryErrorRow[];
  invented: InventedRow[];
  confusion: ConfusionTable[];
}

const groupKey = (model: string, size: number) => `${model}\u0000${size}`;

function compareModelSize(a: { model: string; size: number }, b: { model: string; size: number }) {
  return (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) || a.size - b.size;
}

/**
 * Per-country, invented-name and confusion tables per model × size, from the scored answers'
 * prompts (the asked countries) and verdicts (the mentions). Asked names resolve through
 * `taxonomy` (default all 193 UN members); an asked name that is not a country is an input error
 * and throws, as in scoring.
 */
export function countryErrors(
  answers: Iterable<ScoredAnswer>,
  taxonomy: Taxonomy = getTaxonomy("un"),
  options: CountryErrorsOptions = {},
): CountryErrorTables {
  const readMentions = options.mentions ?? true;
  const countryRows = new Map<string, CountryErrorRow>();
  const invented = new Map<string, InventedRow>();
  const confusion = new Map<string, ConfusionTable>();
  // The taxonomy's groups in its order: the six continents for the country taxonomy.
  const groups: readonly string[] = [...new Set(taxonomy.countries.map((c) => c.continent))];
  const isCountries = groups.length === CONTINENTS.length &&
    groups.every((g, i) => g === CONTINENTS[i]);
  const rows = isCountries ? CONTINENTS : groups;
  const columns = isCountries ? CONFUSION_COLUMNS : [...groups, "other label", "missing"];
  const rowIndex = new Map(rows.map((c, i) => [c as string, i]));
  const colIndex = new Map(columns.map((c, i) => [c as string, i]));

  const countryRow = (
    model: string,
    size: number,
    code: string,
    name: string,
    continent: string,
  ) => {
    const k = `${groupKey(model, size)}\u0000${code}`;
    let row = countryRows.get(k);
    if (!row) {
      row = {
        model,
        size,
        code,
        country: name,
        continent,
        asked: 0,
        missing: 0,
        misclassified: 0,
        errorRate: 0,
        placedUnder: {},
        invented: 0,
      };
      countryRows.set(k, row);
    }
    return row;
  };

  // Every answer to a prompt asks the same names: each is resolved once.
  const resolved = new Map<string, ReturnType<Taxonomy["resolveCountry"]>>();
  const resolveCountry = (name: string) => {
    let country = resolved.get(name);
    if (country === undefined && !resolved.has(name)) {
      country = taxonomy.resolveCountry(name);
      resolved.set(name, country);
    }
    return country;
  };

  for (const { record, score } of answers) {
    const { model, size } = record;
    const gk = groupKey(model, size);
    let table = confusion.get(gk);
    if (!table) {
      table = {
        model,
        size,
        rows,
        columns,
        counts: rows.map(() => columns.map(() => 0)),
      };
      confusion.set(gk, table);
    }
    const asked = new Map<string, { name: string; continent: string }>();
    for (const name of record.prompt.countries) {
      const country = resolveCountry(name);
      if (!country) {
        throw new Error(`countryErrors: asked country ${JSON.stringify(name)} is not a country`);
      }
      asked.set(country.code, { name: country.name, continent: country.continent });
    }
    const firstWrong = new Map<string, Mention>();
    const mentioned = new Set<string>();
    const inventedHere = new Set<string>();
    for (const m of readMentions ? score.mentions : []) {
      if (m.code !== null && asked.has(m.code)) {
        mentioned.add(m.code);
        if (m.inOwnContinent === false && !firstWrong.has(m.code)) firstWrong.set(m.code, m);
        continue;
      }
      const kind = m.kind === "other-country"
        ? "country"
        : m.kind === "non-member"
        ? "non-member"
        : "unknown";
      const name = m.name ?? m.text;
      const ik = `${gk}\u0000${kind}\u0000${name}`;
      let inv = invented.get(ik);
      if (!inv) {
        inv = { model, size, name, kind, mentions: 0, answers: 0 };
        invented.set(ik, inv);
      }
      inv.mentions++;
      if (!inventedHere.has(ik)) {
        inventedHere.add(ik);
        inv.answers++;
        if (kind === "country" && m.code !== null && m.continent !== null) {
          countryRow(model, size, m.code, m.name ?? m.text, m.continent).invented++;
        }
      }
    }
    for (const [code, { name, continent }] of asked) {
      const row = countryRow(model, size, code, name, continent);
      row.asked++;
      const r = rowIndex.get(continent)!;
      if (!mentioned.has(code)) {
        row.missing++;
        table.counts[r][colIndex.get("missing")!]++;
        continue;
      }
      const wrong = firstWrong.get(code);
      if (!wrong) {
        table.counts[r][r]++;
        continue;
      }
      row.misclassified++;
      const placed: Placement = wrong.labelContinent ?? "other label";
      row.placedUnder[placed] = (row.placedUnder[placed] ?? 0) + 1;
      table.counts[r][colIndex.get(placed)!]++;
    }
  }

  const countries = [...countryRows.values()].map((r) => ({
    ...r,
    errorRate: r.asked > 0 ? (r.missing + r.misclassified) / r.asked : 0,
  }));
  countries.sort((a, b) => compareModelSize(a, b) || (a.code < b.code ? -1 : 1));
  return {
    countries,
    invented: [...invented.values()].sort((a, b) =>
      compareModelSize(a, b) || b.mentions - a.mentions || (a.name < b.name ? -1 : 1)
    ),
    confusion: [...confusion.values()].sort(compareModelSize),
  };
}

/** Options of {@link worstCountries}. */
export interface WorstCountriesOptions {
  /** How many countries (default 15). */
  limit?: number;
  /** Include the base model (size 0); default false, so it does not crowd out the tuned sizes. */
  includeBase?: boolean;
}

/** A country's errors for one model summed over the tuned sizes (the chart's ranking key). */
export type CountryErrorTotal = Pick<
  CountryErrorRow,
  "model" | "code" | "country" | "continent" | "asked" | "missing" | "misclassified" | "errorRate"
>;

/**
 * The countries with the most errors (missing + misclassified, then error rate, then name) for
 * one model, summed over its tuned sizes (and the base model when asked); countries with no error
 * are left out.
 */
export function worstCountries(
  rows: readonly CountryErrorRow[],
  model: string,
  options: WorstCountriesOptions = {},
): CountryErrorTotal[] {
  const totals = new Map<string, CountryErrorTotal>();
  for (const r of rows) {
    if (r.model !== model || (r.size === 0 && !options.includeBase)) continue;
    const t = totals.get(r.code) ??
      {
        model,
        code: r.code,
        country: r.country,
        continent: r.continent,
        asked: 0,
        missing: 0,
        misclassified: 0,
        errorRate: 0,
      };
    t.asked += r.asked;
    t.missing += r.missing;
    t.misclassified += r.misclassified;
    totals.set(r.code, t);
  }
  return [...totals.values()]
    .map((t) => ({ ...t, errorRate: t.asked ? (t.missing + t.misclassified) / t.asked : 0 }))
    .filter((t) => t.missing + t.misclassified > 0)
    .sort((a, b) =>
      b.missing + b.misclassified - (a.missing + a.misclassified) ||
      b.errorRate - a.errorRate || (a.country < b.country ? -1 : 1)
    )
    .slice(0, options.limit ?? 15);
}
