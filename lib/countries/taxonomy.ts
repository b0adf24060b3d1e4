/**
 * The country taxonomy: one record per UN member state (193), with the canonical Korean name as the
 * cookbook spells it, the English name, the continent in the cookbook's six-continent scheme and
 * Korean aliases; plus known non-member entities (observer states, disputed or dependent
 * territories) a model may mention. Data comes from `data/countries.json`, which `deno task crawl`
 * rebuilds (see `lib/crawl/crawl.ts`).
 *
 * @module
 */
import { type Continent, CONTINENTS } from "../cookbook.ts";
import data from "../../data/countries.json" with { type: "json" };

export { type Continent, CONTINENTS } from "../cookbook.ts";

/** A UN member state. */
export interface Country {
  /** ISO 3166-1 alpha-2 code. */
  code: string;
  /** Canonical Korean name, spelled as the cookbook spells it where the cookbook lists it. */
  name: string;
  /** English common name. */
  nameEn: string;
  /** Continent in the cookbook's six-continent scheme. */
  continent: Continent;
  /** Other Korean names that resolve to this country (never another country's name). */
  aliases: readonly string[];
  /** Whether the cookbook's 192-name list includes this country (all but DR Congo). */
  inCookbook: boolean;
}

/** A known entity that is not a UN member state (an observer state or a territory). */
export interface NonMember {
  /** ISO 3166-1 alpha-2 code (or user-assigned code such as `XK`). */
  code: string;
  /** Korean name. */
  name: string;
  /** English common name. */
  nameEn: string;
  /** `observer` for UN General Assembly observer states, `non-member` otherwise. */
  status: "observer" | "non-member";
  /** Other Korean names. */
  aliases: readonly string[];
}

/** The named country lists: all 193 UN members, or the 192 the cookbook used. */
export type TaxonomyListName = "un" | "cookbook";

/** What a free-text name resolves to. */
export type Resolution =
  | { kind: "country"; country: Country }
  | { kind: "non-member"; entity: NonMember };

/** An alias that would name more than one entity, and was therefore not bound to any of them. */
export interface DroppedAlias {
  /** The alias as it was offered. */
  alias: string;
  /** Codes of the entities it would have named (sorted). */
  codes: readonly string[];
}

/** The look-up API over one country list. */
export interface Taxonomy {
  /** Which list this is. */
  readonly list: TaxonomyListName;
  /** 193 countries for `un`, 192 for `cookbook`; ordered by continent, then the cookbook's order. */
  readonly countries: readonly Country[];
  /** Known non-member entities. */
  readonly nonMembers: readonly NonMember[];
  /** Aliases dropped because they would name two entities. */
  readonly droppedAliases: readonly DroppedAlias[];
  /** Resolves a free-text name (whitespace/punctuation-insensitive, aliases) to a country. */
  resolveCountry(text: string): Country | undefined;
  /** Resolves a free-text name to a country or a known non-member. */
  resolve(text: string): Resolution | undefined;
  /** The countries of one continent, in list order. */
  countriesOf(continent: Continent): readonly Country[];
  /** Resolves a continent label or alias (`북미`, `대양주`, `Europe` …) to a continent. */
  resolveContinent(label: string): Continent | undefined;
}

/** Parsed `data/countries.json` (the parts the taxonomy reads). */
/**
 * The parts of `data/countries.json` the taxonomy reads (other keys are allowed). The file is
 * checked against its schema (`CountriesFileSchema` of `lib/crawl/`) where it is written and by
 * the tests.
 */
export interface CountriesFile {
  countries: readonly Country[];
  nonMembers: readonly NonMember[];
  droppedAliases: readonly DroppedAlias[];
}

const EDGE_PUNCT = /^[\p{P}\p{S}\s]+|[\p{P}\p{S}\s]+$/gu;
const INNER_IGNORED = /[\s\-‐‑‒–—―·・'’`]/gu;

/**
 * Normalises a name for matching: Unicode NFC, Latin diacritics and case folded, whitespace
 * removed, surrounding punctuation and symbols stripped, inner hyphens, middle dots and
 * apostrophes removed. `" 대한 민국 "` and `"대한민국."` both give `대한민국`.
 */
export function normalizeName(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{Mn}/gu, "")
    .normalize("NFC")
    .replace(EDGE_PUNCT, "")
    .replace(INNER_IGNORED, "")
    .toLowerCase();
}

/** One name offered to the alias index, with its precedence tier (lower wins). */
export interface NameCandidate {
  /** The name as written. */
  name: string;
  /** Code of the entity it names. */
  code: string;
  /** 0 = canonical country name, 1 = country alias, 2 = country English name, 3 = non-member. */
  tier: number;
}

/** Result of {@link buildNameIndex}: normalised name → code, and the names left unbound. */
export interface NameIndex {
  /** Normalised name → entity code. */
  index: Map<string, string>;
  /** Names that would name two entities at their best tier (sorted by alias, then codes). */
  dropped: DroppedAlias[];
}

/**
 * Binds names to entity codes. For each normalised name, the lowest tier wins (canonical names beat
 * aliases); if two different entities offer it at that tier it is bound to none. A name bound to
 * one entity but also offered (at a worse tier) by another is reported as dropped for the other.
 */
export function buildNameIndex(candidates: readonly NameCandidate[]): NameIndex {
  const byKey = new Map<string, NameCandidate[]>();
  for (const c of candidates) {
    const key = normalizeName(c.name);
    if (!key) continue;
    const list = byKey.get(key);
    if (list) list.push(c);
    else byKey.set(key, [c]);
  }
  const index = new Map<string, string>();
  const dropped = new Map<string, DroppedAlias>();
  for (const [key, list] of byKey) {
    const codes = [...new Set(list.map((c) => c.code))].sort();
    const best = Math.min(...list.map((c) => c.tier));
    const winners = [...new Set(list.filter((c) => c.tier === best).map((c) => c.code))];
    if (winners.length === 1) index.set(key, winners[0]);
    if (codes.length > 1) {
      const alias = list.filter((c) => c.tier > 0).map((c) => c.name).sort()[0] ?? list[0].name;
      dropped.set(key, { alias, codes });
    }
  }
  const droppedList = [...dropped.values()].sort((a, b) =>
    cmp(a.alias, b.alias) || cmp(a.codes.join(), b.codes.join())
  );
  return { index, dropped: droppedList };
}

/** Code-unit string comparison (locale-independent, so ordering is the same everywhere). */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const CONTINENT_ALIASES: Readonly<Record<Continent, readonly string[]>> = {
  "아시아": ["아시아", "아시아주", "아세아", "Asia"],
  "유럽": ["유럽", "유럽주", "구라파", "Europe"],
  "북아메리카": ["북아메리카", "북미", "북미주", "북아메리카주", "북중미", "North America"],
  "남아메리카": ["남아메리카", "남미", "남미주", "남아메리카주", "South America"],
  "아프리카": ["아프리카", "아프리카주", "Africa"],
  "오세아니아": ["오세아니아", "오세아니아주", "대양주", "Oceania"],
};

const CONTINENT_INDEX: ReadonlyMap<string, Continent> = new Map(
  CONTINENTS.flatMap((c) => CONTINENT_ALIASES[c].map((a) => [normalizeName(a), c] as const)),
);

/** Resolves a continent label (`북미`, `대양주`, `아프리카 대륙`, `Europe` …) to a continent. */
function resolveContinentLabel(label: string): Continent | undefined {
  const key = normalizeName(label);
  return CONTINENT_INDEX.get(key) ?? CONTINENT_INDEX.get(key.replace(/(대륙|continent)$/u, ""));
}

const cache = new Map<TaxonomyListName, Taxonomy>();

/** Builds a taxonomy over a parsed countries file (exported for tests and the crawler). */
export function createTaxonomy(file: CountriesFile, list: TaxonomyListName = "un"): Taxonomy {
  const all: Country[] = file.countries.map((c) =>
    Object.freeze({ ...c, aliases: Object.freeze([...c.aliases]) })
  );
  const nonMembers: NonMember[] = file.nonMembers.map((n) =>
    Object.freeze({ ...n, aliases: Object.freeze([...n.aliases]) })
  );
  // The name index (every name and alias normalised) is built on the first look-up: drawing a
  // dataset never resolves a name.
  let names: { index: Map<string, string>; droppedAliases: readonly DroppedAlias[] } | undefined;
  const nameIndex = () => {
    if (!names) {
      const candidates: NameCandidate[] = [];
      for (const c of all) {
        candidates.push({ name: c.name, code: c.code, tier: 0 });
        for (const a of c.aliases) candidates.push({ name: a, code: c.code, tier: 1 });
        candidates.push({ name: c.nameEn, code: c.code, tier: 2 });
      }
      for (const n of nonMembers) {
        for (const a of [n.name, ...n.aliases, n.nameEn]) {
          candidates.push({ name: a, code: n.code, tier: 3 });
        }
      }
      const { index, dropped } = buildNameIndex(candidates);
      names = { index, droppedAliases: Object.freeze(mergeDropped(file.droppedAliases, dropped)) };
    }
    return names;
  };

  const countries = Object.freeze(list === "un" ? all : all.filter((c) => c.inCookbook));
  const byCode = new Map<string, Country>(countries.map((c) => [c.code, c]));
  const nonMemberByCode = new Map<string, NonMember>(nonMembers.map((n) => [n.code, n]));
  const byContinent = new Map<Continent, readonly Country[]>(
    CONTINENTS.map((k) => [k, Object.freeze(countries.filter((c) => c.continent === k))]),
  );

  const resolve = (text: string): Resolution | undefined => {
    const code = nameIndex().index.get(normalizeName(text));
    if (code === undefined) return undefined;
    const country = byCode.get(code);
    if (country) return { kind: "country", country };
    const entity = nonMemberByCode.get(code);
    return entity ? { kind: "non-member", entity } : undefined;
  };

  return Object.freeze({
    list,
    countries,
    nonMembers: Object.freeze(nonMembers),
    get droppedAliases() {
      return nameIndex().droppedAliases;
    },
    resolveCountry: (text: string) => {
      const r = resolve(text);
      return r?.kind === "country" ? r.country : undefined;
    },
    resolve,
    countriesOf: (continent: Continent) => byContinent.get(continent) ?? [],
    resolveContinent: resolveContinentLabel,
  });
}

/** Union of the file's recorded dropped aliases and any found at load time, without repeats. */
function mergeDropped(
  recorded: readonly DroppedAlias[],
  found: readonly DroppedAlias[],
): DroppedAlias[] {
  const out = new Map<string, DroppedAlias>();
  for (const d of [...recorded, ...found]) {
    const key = normalizeName(d.alias);
    const prev = out.get(key);
    const codes = [...new Set([...(prev?.codes ?? []), ...d.codes])].sort();
    out.set(key, Object.freeze({ alias: prev?.alias ?? d.alias, codes: Object.freeze(codes) }));
  }
  return [...out.values()].sort((a, b) => cmp(a.alias, b.alias));
}

/**
 * Returns the taxonomy for a named list (default `un`, all 193 members; `cookbook` = the 192 the
 * cookbook used). Memoised. `data/countries.json` is imported with the code: it is checked
 * against its schema (`lib/crawl/schema.ts`) where it is written (`deno task crawl`) and by the
 * tests, so that loading it costs no schema library.
 */
export function getTaxonomy(list: TaxonomyListName = "un"): Taxonomy {
  let t = cache.get(list);
  if (!t) {
    t = createTaxonomy(data as CountriesFile, list);
    cache.set(list, t);
  }
  return t;
}
