/**
 * The crawler behind `deno task crawl`: reads a REST Countries v3.1–style JSON array (live URL or a
 * local file), validates it with zod, keeps the UN member states (correcting the source's own
 * membership errors against a checked list of observer states), assigns the cookbook's continents,
 * names each country as the cookbook does, merges Korean aliases, drops ambiguous ones, and writes
 * `data/countries.json` deterministically and atomically. It also reports how the source differs
 * from the cookbook's 192-name list.
 *
 * @module
 */
import { z } from "zod";
import {
  type Continent,
  CONTINENTS,
  COOKBOOK_COUNTRIES,
  COOKBOOK_FIRST_LISTING_TYPOS,
} from "../cookbook.ts";
import {
  buildNameIndex,
  type Country,
  type DroppedAlias,
  type NameCandidate,
  type NonMember,
  normalizeName,
} from "../countries/mod.ts";
import { sha256Hex, writeFileAtomic } from "../io/mod.ts";
import { CountriesFileSchema } from "./schema.ts";

/** The live REST Countries v3.1 endpoint, restricted to the fields the crawler reads. */
export const DEFAULT_SOURCE_URL =
  "https://restcountries.com/v3.1/all?fields=name,cca2,unMember,independent,region,subregion,translations";

/** Number of UN member states; a crawl that finds another number fails unless told otherwise. */
export const UN_MEMBER_COUNT = 193;

/**
 * UN General Assembly non-member observer states (checked against un.org, 2024). A source that
 * marks one of them as a member is wrong; the crawler excludes it and records the correction.
 */
export const OBSERVER_STATES: Readonly<Record<string, string>> = {
  VA: "Holy See (Vatican City): non-member observer state since 1964",
  PS: "State of Palestine: non-member observer state since 2012",
};

/**
 * Entities that are not UN members but that a model may name as countries: the observer states
 * plus disputed and dependent territories, with the status the taxonomy reports.
 */
export const KNOWN_NON_MEMBERS: Readonly<Record<string, NonMember["status"]>> = {
  VA: "observer",
  PS: "observer",
  TW: "non-member",
  XK: "non-member",
  EH: "non-member",
  HK: "non-member",
  MO: "non-member",
  GL: "non-member",
  PR: "non-member",
  CK: "non-member",
  NU: "non-member",
};

/**
 * Continent by the source's region (and subregion for the Americas), in the cookbook's scheme:
 * Central America and the Caribbean are 북아메리카.
 */
export function continentFromRegion(region: string, subregion = ""): Continent | undefined {
  switch (region) {
    case "Asia":
      return "아시아";
    case "Europe":
      return "유럽";
    case "Africa":
      return "아프리카";
    case "Oceania":
      return "오세아니아";
    case "Americas":
      return subregion === "South America" ? "남아메리카" : "북아메리카";
    default:
      return undefined;
  }
}

/**
 * Where the cookbook's scheme differs from the source's regions: Russia and Cyprus are in Asia,
 * Armenia, Azerbaijan and Georgia in Europe (Türkiye is already Asia in the source).
 */
export const CONTINENT_OVERRIDES: Readonly<Record<string, Continent>> = {
  RU: "아시아",
  CY: "아시아",
  TR: "아시아",
  AM: "유럽",
  AZ: "유럽",
  GE: "유럽",
};

/**
 * Cookbook names that name matching cannot bind on its own: the source gives Dominica the Korean
 * name of the Dominican Republic, the cookbook's `콩고` is the Republic of the Congo, and
 * `모리타니아` is spelled differently from every source name.
 */
export const COOKBOOK_NAME_OVERRIDES: Readonly<Record<string, string>> = {
  "도미니카": "DM",
  "도미니카 공화국": "DO",
  "콩고": "CG",
  "모리타니아": "MR",
};

/** Canonical Korean names for members the cookbook does not list. */
export const EXTRA_CANONICAL_NAMES: Readonly<Record<string, string>> = {
  CD: "콩고 민주 공화국",
};

/** Korean names in common use that neither CLDR nor the source gives (checked by hand). */
export const COMMON_USAGE_ALIASES: Readonly<Record<string, readonly string[]>> = {
  KR: ["한국", "남한", "대한민국", "South Korea"],
  KP: ["북한", "북조선", "조선민주주의인민공화국"],
  US: ["미국", "미합중국", "아메리카 합중국", "미연방"],
  GB: ["영국", "연합왕국", "그레이트브리튼", "그레이트브리튼 북아일랜드 연합왕국", "대영제국"],
  CZ: ["체코", "체코 공화국", "체키아"],
  AU: ["호주", "오스트레일리아", "오스트레일리아 연방"],
  TR: ["터키", "튀르키예", "터키 공화국", "튀르키예 공화국"],
  AE: ["아랍에미리트", "아랍에미리트 연합국", "아랍 에미리트 연합"],
  MM: ["버마"],
  SZ: ["스와질란드"],
  MK: ["마케도니아", "마케도니아 공화국"],
  GE: ["그루지야"],
  BY: ["벨로루시"],
  CI: ["아이보리 코스트", "코트디부아르 공화국"],
  TL: ["티모르레스테"],
  CD: ["민주 콩고", "콩고민주공화국", "자이르"],
  CG: ["콩고 공화국", "콩고-브라자빌"],
  MR: ["모리타니", "모리타니아"],
  FM: ["미크로네시아"],
  ZA: ["남아공", "남아프리카"],
  DM: ["도미니카 연방"],
  SA: ["사우디"],
  NL: ["홀란드"],
  ES: ["에스파냐"],
  TH: ["타이"],
  VN: ["월남"],
  CV: ["케이프베르데"],
  KG: ["키르기스"],
  BA: ["보스니아"],
  KN: ["세인트크리스토퍼 네비스"],
  VA: ["교황청", "바티칸 시국"],
  TW: ["타이완", "중화민국"],
  PS: ["팔레스타인국"],
  XK: ["코소보 공화국"],
};

/** zod schema of one entry of a REST Countries v3.1–style array (unknown fields are tolerated). */
export const SourceCountrySchema = z.looseObject({
  name: z.looseObject({ common: z.string().min(1), official: z.string().min(1) }),
  cca2: z.string().regex(/^[A-Z]{2}$/),
  unMember: z.boolean(),
  independent: z.boolean().nullish(),
  region: z.string(),
  subregion: z.string().optional(),
  translations: z.record(
    z.string(),
    z.looseObject({ common: z.string(), official: z.string() }),
  ),
});

/** One validated source entry. */
export type SourceCountry = z.infer<typeof SourceCountrySchema>;

/** zod schema of a whole source document. */
export const SourceSchema = z.array(SourceCountrySchema).min(1);

/** Where a crawl failed. */
export type CrawlStage = "fetch" | "parse" | "schema" | "content" | "write";

/** A crawl failure: which stage failed, on which source, and why. The output file is untouched. */
export class CrawlError extends Error {
  /** The stage that failed. */
  readonly stage: CrawlStage;
  /** The URL or file path that was read. */
  readonly source: string;
  /** Builds the error; the message names the stage and the source. */
  constructor(stage: CrawlStage, source: string, detail: string, options?: ErrorOptions) {
    super(`${source}: ${stage} failed: ${detail}`, options);
    this.name = "CrawlError";
    this.stage = stage;
    this.source = source;
  }
}

/** Where the data came from, as recorded in `data/countries.json`. */
export interface SourceInfo {
  /** `url` for a fetched endpoint, `file` for a local file. */
  kind: "url" | "file";
  /** The URL, or the file's base name (so the output does not depend on the working directory). */
  location: string;
  /** SHA-256 of the bytes read, hex. */
  sha256: string;
  /** Entries in the source. */
  entries: number;
  /** Entries the source marks as UN members. */
  unMembersInSource: number;
}

/** A membership error in the source that the crawler corrected. */
export interface Correction {
  code: string;
  nameEn: string;
  reason: string;
}

/** How the source (and CLDR) differ from the cookbook's 192-name list. */
export interface CookbookDiff {
  /** UN members the cookbook does not list (DR Congo). */
  missingFromCookbook: { code: string; name: string; nameEn: string; continent: Continent }[];
  /** Members whose cookbook name differs from the source's Korean name or CLDR's. */
  spellingDifferences: {
    code: string;
    cookbook: string;
    source: string;
    cldr: string;
    /** True if the names differ only in spacing or punctuation. */
    spacingOnly: boolean;
  }[];
  /** The cookbook's first-listing typos, and what the intended name resolves to. */
  firstListingTypos: {
    listed: string;
    intended: string;
    listedResolvesTo: string | null;
    intendedResolvesTo: string | null;
  }[];
  /** Cookbook names that resolve to no member. */
  unresolvedCookbookNames: string[];
  /** Members whose continent by the checked mapping differs from the cookbook's. */
  continentDifferences: { code: string; name: string; cookbook: Continent; assigned: Continent }[];
}

/** The content of `data/countries.json`. */
export interface CountriesData {
  source: SourceInfo;
  count: number;
  corrections: Correction[];
  countries: Country[];
  nonMembers: NonMember[];
  droppedAliases: DroppedAlias[];
  cookbookDiff: CookbookDiff;
}

/** Options of {@link buildCountriesData}. */
export interface BuildOptions {
  /** Recorded provenance (defaults to a placeholder with the entry counts filled in). */
  source?: Omit<SourceInfo, "entries" | "unMembersInSource">;
  /** Expected member count (default 193); another count throws a `content` CrawlError. */
  expectedCount?: number;
  /** Korean region names (default CLDR via `Intl.DisplayNames`). */
  displayName?: (code: string) => string | undefined;
  /** The URL or path named in errors (default the recorded location). */
  label?: string;
}

const COOKBOOK_CONTINENT_BY_NAME: ReadonlyMap<string, Continent> = new Map(
  CONTINENTS.flatMap((k) => COOKBOOK_COUNTRIES[k].map((n) => [n, k] as const)),
);

/** CLDR Korean region name, or undefined when ICU has none. */
function cldrKorean(): (code: string) => string | undefined {
  const dn = new Intl.DisplayNames(["ko"], { type: "region", fallback: "none" });
  return (code) => {
    try {
      return dn.of(code) ?? undefined;
    } catch {
      return undefined;
    }
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function koreanNames(entry: SourceCountry): string[] {
  const kor = entry.translations["kor"];
  return kor ? [kor.common.trim(), kor.official.trim()].filter((s) => s.length > 0) : [];
}

/**
 * Binds each cookbook name to a member code: explicit overrides first, then a unique match of the
 * normalised name against the source's Korean names and CLDR's. Unmatched names map to nothing.
 */
function bindCookbookNames(
  members: readonly SourceCountry[],
  cldr: (code: string) => string | undefined,
): { byCode: Map<string, string>; unresolved: string[] } {
  const keyToCodes = new Map<string, Set<string>>();
  for (const m of members) {
    for (const n of [...koreanNames(m), cldr(m.cca2) ?? ""]) {
      const key = normalizeName(n);
      if (!key) continue;
      const set = keyToCodes.get(key) ?? new Set<string>();
      set.add(m.cca2);
      keyToCodes.set(key, set);
    }
  }
  const memberCodes = new Set(members.map((m) => m.cca2));
  const byCode = new Map<string, string>();
  const unresolved: string[] = [];
  for (const name of COOKBOOK_CONTINENT_BY_NAME.keys()) {
    let code: string | undefined = COOKBOOK_NAME_OVERRIDES[name];
    if (code === undefined) {
      const codes = keyToCodes.get(normalizeName(name));
      if (codes?.size === 1) code = [...codes][0];
    }
    if (code === undefined || !memberCodes.has(code) || byCode.has(code)) unresolved.push(name);
    else byCode.set(code, name);
  }
  return { byCode, unresolved };
}

/**
 * Builds the content of `data/countries.json` from validated source entries. Deterministic: the
 * same entries (and ICU version) give the same object. Throws a `content` CrawlError when the
 * member count is not the expected one.
 */
export function buildCountriesData(
  entries: readonly SourceCountry[],
  opts: BuildOptions = {},
): CountriesData {
  const cldr = opts.displayName ?? cldrKorean();
  const expected = opts.expectedCount ?? UN_MEMBER_COUNT;
  const sourceInfo: SourceInfo = {
    ...(opts.source ?? { kind: "file", location: "(in memory)", sha256: "" }),
    entries: entries.length,
    unMembersInSource: entries.filter((e) => e.unMember).length,
  };
  const label = opts.label ?? sourceInfo.location;
  const corrections: Correction[] = [];
  const members: SourceCountry[] = [];
  for (const e of entries) {
    if (!e.unMember) continue;
    if (e.cca2 in OBSERVER_STATES) {
      corrections.push({
        code: e.cca2,
        nameEn: e.name.common,
        reason: `marked as a UN member by the source, but is an observer: ${
          OBSERVER_STATES[e.cca2]
        }`,
      });
      continue;
    }
    members.push(e);
  }
  corrections.sort((a, b) => cmp(a.code, b.code));
  const dupes = members.map((m) => m.cca2).filter((c, i, all) => all.indexOf(c) !== i);
  if (dupes.length > 0) {
    throw new CrawlError("content", label, `duplicate codes: ${dupes.join(", ")}`);
  }
  if (members.length !== expected) {
    throw new CrawlError(
      "content",
      label,
      `expected ${expected} UN members after corrections, found ${members.length}`,
    );
  }

  const { byCode: cookbookName, unresolved } = bindCookbookNames(members, cldr);

  interface Draft {
    entry: SourceCountry;
    name: string;
    continent: Continent;
    cookbookContinent?: Continent;
    offered: string[];
  }
  const drafts: Draft[] = [];
  for (const m of members) {
    const continent = CONTINENT_OVERRIDES[m.cca2] ?? continentFromRegion(m.region, m.subregion);
    if (!continent) {
      throw new CrawlError(
        "content",
        label,
        `no continent for ${m.cca2} (region "${m.region}", subregion "${m.subregion ?? ""}")`,
      );
    }
    const cbName = cookbookName.get(m.cca2);
    const name = cbName ?? EXTRA_CANONICAL_NAMES[m.cca2] ?? koreanNames(m)[0] ??
      cldr(m.cca2) ?? m.name.common;
    drafts.push({
      entry: m,
      name,
      continent,
      cookbookContinent: cbName ? COOKBOOK_CONTINENT_BY_NAME.get(cbName) : undefined,
      offered: [
        cldr(m.cca2) ?? "",
        ...koreanNames(m),
        ...(COMMON_USAGE_ALIASES[m.cca2] ?? []),
      ].filter((s) => s.length > 0),
    });
  }

  const nmDrafts = Object.entries(KNOWN_NON_MEMBERS).flatMap(([code, status]) => {
    const e = entries.find((x) => x.cca2 === code);
    const korean = e ? koreanNames(e) : [];
    const name = korean[0] ?? cldr(code);
    if (!name) return [];
    return [{
      code,
      name,
      nameEn: e?.name.common ?? code,
      status,
      offered: [cldr(code) ?? "", ...korean, ...(COMMON_USAGE_ALIASES[code] ?? [])].filter((s) =>
        s.length > 0
      ),
    }];
  });

  const candidates: NameCandidate[] = [];
  for (const d of drafts) {
    candidates.push({ name: d.name, code: d.entry.cca2, tier: 0 });
    for (const a of d.offered) candidates.push({ name: a, code: d.entry.cca2, tier: 1 });
    candidates.push({ name: d.entry.name.common, code: d.entry.cca2, tier: 2 });
  }
  for (const n of nmDrafts) {
    for (const a of [n.name, ...n.offered, n.nameEn]) {
      candidates.push({ name: a, code: n.code, tier: 3 });
    }
  }
  const { index, dropped } = buildNameIndex(candidates);

  /** Aliases bound to `code`, minus its canonical name, one per normalised form, sorted. */
  const keptAliases = (code: string, canonical: string, offered: readonly string[]) => {
    const seen = new Set([normalizeName(canonical)]);
    const out: string[] = [];
    for (const a of offered) {
      const key = normalizeName(a);
      if (!key || seen.has(key) || index.get(key) !== code) continue;
      seen.add(key);
      out.push(a);
    }
    return out.sort(cmp);
  };

  const continentRank = (c: Continent) => CONTINENTS.indexOf(c);
  const cookbookRank = (d: Draft) => {
    const n = cookbookName.get(d.entry.cca2);
    return n === undefined ? Infinity : COOKBOOK_COUNTRIES[d.continent].indexOf(n);
  };
  drafts.sort((a, b) =>
    continentRank(a.continent) - continentRank(b.continent) ||
    (cookbookRank(a) - cookbookRank(b) || 0) || cmp(a.entry.cca2, b.entry.cca2)
  );

  const countries: Country[] = drafts.map((d) => ({
    code: d.entry.cca2,
    name: d.name,
    nameEn: d.entry.name.common,
    continent: d.continent,
    aliases: keptAliases(d.entry.cca2, d.name, d.offered),
    inCookbook: cookbookName.has(d.entry.cca2),
  }));
  const nonMembers: NonMember[] = nmDrafts
    .map((n) => ({
      code: n.code,
      name: n.name,
      nameEn: n.nameEn,
      status: n.status,
      aliases: keptAliases(n.code, n.name, n.offered),
    }))
    .sort((a, b) => cmp(a.code, b.code));

  const cookbookDiff = diffAgainstCookbook({ drafts, countries, cldr, unresolved, index });

  return {
    source: sourceInfo,
    count: countries.length,
    corrections,
    countries,
    nonMembers,
    droppedAliases: dropped,
    cookbookDiff,
  };
}

/** Inputs of {@link diffAgainstCookbook}. */
export interface DiffInput {
  drafts: readonly { entry: SourceCountry; cookbookContinent?: Continent; continent: Continent }[];
  countries: readonly Country[];
  cldr: (code: string) => string | undefined;
  unresolved: readonly string[];
  index: ReadonlyMap<string, string>;
}

/**
 * Compares the crawled members with the cookbook's list: members it lacks, spelling differences
 * between the cookbook's names and the source's or CLDR's, its first-listing typos, cookbook names
 * that resolve to nothing, and continent disagreements.
 */
export function diffAgainstCookbook(input: DiffInput): CookbookDiff {
  const byCode = new Map(input.countries.map((c) => [c.code, c]));
  const missingFromCookbook = input.countries
    .filter((c) => !c.inCookbook)
    .map((c) => ({ code: c.code, name: c.name, nameEn: c.nameEn, continent: c.continent }));
  const spellingDifferences: CookbookDiff["spellingDifferences"] = [];
  const continentDifferences: CookbookDiff["continentDifferences"] = [];
  for (const d of input.drafts) {
    const c = byCode.get(d.entry.cca2);
    if (!c?.inCookbook) continue;
    const source = koreanNames(d.entry)[0] ?? "";
    const cldr = input.cldr(c.code) ?? "";
    if (source !== c.name || cldr !== c.name) {
      const norm = normalizeName(c.name);
      spellingDifferences.push({
        code: c.code,
        cookbook: c.name,
        source,
        cldr,
        spacingOnly: normalizeName(source) === norm && normalizeName(cldr) === norm,
      });
    }
    if (d.cookbookContinent && d.cookbookContinent !== d.continent) {
      continentDifferences.push({
        code: c.code,
        name: c.name,
        cookbook: d.cookbookContinent,
        assigned: d.continent,
      });
    }
  }
  const resolveCode = (text: string) => {
    const code = input.index.get(normalizeName(text));
    return code !== undefined && byCode.has(code) ? code : null;
  };
  const firstListingTypos = COOKBOOK_FIRST_LISTING_TYPOS.map((t) => ({
    listed: t.listed,
    intended: t.intended,
    listedResolvesTo: resolveCode(t.listed),
    intendedResolvesTo: resolveCode(t.intended),
  }));
  spellingDifferences.sort((a, b) => cmp(a.code, b.code));
  continentDifferences.sort((a, b) => cmp(a.code, b.code));
  return {
    missingFromCookbook,
    spellingDifferences,
    firstListingTypos,
    unresolvedCookbookNames: [...input.unresolved],
    continentDifferences,
  };
}

const SourceInfoSchema = z.object({
  kind: z.enum(["url", "file"]),
  location: z.string(),
  sha256: z.string(),
  entries: z.number().int(),
  unMembersInSource: z.number().int(),
});

const ContinentEnum = z.enum(CONTINENTS);

/** zod schema of the whole `data/countries.json` as the crawler writes it. */
export const CountriesDataSchema = CountriesFileSchema.extend({
  source: SourceInfoSchema,
  count: z.number().int(),
  corrections: z.array(z.object({ code: z.string(), nameEn: z.string(), reason: z.string() })),
  cookbookDiff: z.object({
    missingFromCookbook: z.array(
      z.object({
        code: z.string(),
        name: z.string(),
        nameEn: z.string(),
        continent: ContinentEnum,
      }),
    ),
    spellingDifferences: z.array(z.object({
      code: z.string(),
      cookbook: z.string(),
      source: z.string(),
      cldr: z.string(),
      spacingOnly: z.boolean(),
    })),
    firstListingTypos: z.array(z.object({
      listed: z.string(),
      intended: z.string(),
      listedResolvesTo: z.string().nullable(),
      intendedResolvesTo: z.string().nullable(),
    })),
    unresolvedCookbookNames: z.array(z.string()),
    continentDifferences: z.array(z.object({
      code: z.string(),
      name: z.string(),
      cookbook: ContinentEnum,
      assigned: ContinentEnum,
    })),
  }),
});

/**
 * Reads and validates a countries file written by the crawler (default: the repository's
 * `data/countries.json`), e.g. to show its recorded diff against the cookbook.
 */
export async function readCountriesData(
  path: string | URL = new URL("../../data/countries.json", import.meta.url),
): Promise<CountriesData> {
  const parsed = CountriesDataSchema.safeParse(JSON.parse(await Deno.readTextFile(path)));
  if (!parsed.success) {
    throw new Error(`${path} is not a crawler output: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data as CountriesData;
}

/** Serialises countries data: two-space JSON with a trailing newline (stable key order). */
export function serializeCountriesData(data: CountriesData): string {
  return JSON.stringify(data, null, 2) + "\n";
}

function isUrl(source: string): boolean {
  return /^(https?|file):\/\//i.test(source);
}

/** Options of {@link readSource}. */
export interface ReadSourceOptions {
  /** Request timeout for URLs (default 30 s). */
  timeoutMs?: number;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/**
 * Reads and validates a source: an `http(s)://` or `file://` URL, or a local path. Throws a
 * CrawlError naming the stage (`fetch`, `parse`, `schema`) and the source.
 */
export async function readSource(
  source: string,
  opts: ReadSourceOptions = {},
): Promise<{ entries: SourceCountry[]; info: Omit<SourceInfo, "entries" | "unMembersInSource"> }> {
  let bytes: Uint8Array<ArrayBuffer>;
  let info: { kind: "url" | "file"; location: string };
  if (isUrl(source) && !source.toLowerCase().startsWith("file:")) {
    info = { kind: "url", location: source };
    const signals = [AbortSignal.timeout(opts.timeoutMs ?? 30_000)];
    if (opts.signal) signals.push(opts.signal);
    let res: Response;
    try {
      res = await fetch(source, {
        signal: AbortSignal.any(signals),
        headers: { accept: "application/json" },
      });
    } catch (err) {
      throw new CrawlError("fetch", source, `request failed: ${errorText(err)}`, { cause: err });
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new CrawlError("fetch", source, `HTTP ${res.status} ${res.statusText}`.trim());
    }
    try {
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw new CrawlError("fetch", source, `reading the body failed: ${errorText(err)}`, {
        cause: err,
      });
    }
  } else {
    const path = source.toLowerCase().startsWith("file:") ? new URL(source) : source;
    const shown = typeof path === "string" ? path : path.pathname;
    info = { kind: "file", location: shown.slice(shown.lastIndexOf("/") + 1) };
    try {
      bytes = await Deno.readFile(path);
    } catch (err) {
      throw new CrawlError("fetch", source, `cannot read file: ${errorText(err)}`, { cause: err });
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    const head = new TextDecoder().decode(bytes.slice(0, 60)).replace(/\s+/g, " ");
    throw new CrawlError(
      "parse",
      source,
      `body is not JSON (${errorText(err)}); starts "${head}"`,
      {
        cause: err,
      },
    );
  }
  const parsed = SourceSchema.safeParse(json);
  if (!parsed.success) {
    throw new CrawlError(
      "schema",
      source,
      `body does not match the REST Countries v3.1 schema:\n${z.prettifyError(parsed.error)}`,
      { cause: parsed.error },
    );
  }
  return { entries: parsed.data, info: { ...info, sha256: await sha256Hex(bytes) } };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Options of {@link crawlCountries}. */
export interface CrawlOptions extends ReadSourceOptions {
  /** URL (`https://…`) or local file path of a REST Countries v3.1–style array. */
  source?: string;
  /** Where to write the result; omit to only build it. */
  out?: string;
  /** Expected member count (default 193). */
  expectedCount?: number;
}

/** The outcome of a crawl. */
export interface CrawlResult {
  /** The built data (also written to `out` when given). */
  data: CountriesData;
  /** Its serialised form, exactly as written. */
  text: string;
  /** The path written, if any. */
  written?: string;
}

/**
 * Reads the source, builds the countries data, checks it loads as a taxonomy file, and (when `out`
 * is given) writes it atomically. Any failure throws a CrawlError and leaves `out` untouched.
 */
export async function crawlCountries(opts: CrawlOptions = {}): Promise<CrawlResult> {
  const source = opts.source ?? DEFAULT_SOURCE_URL;
  const { entries, info } = await readSource(source, opts);
  const data = buildCountriesData(entries, {
    source: info,
    expectedCount: opts.expectedCount,
    label: source,
  });
  const check = CountriesFileSchema.safeParse(data);
  if (!check.success) {
    throw new CrawlError(
      "content",
      source,
      `built data is invalid: ${z.prettifyError(check.error)}`,
    );
  }
  const text = serializeCountriesData(data);
  if (opts.out === undefined) return { data, text };
  try {
    await writeFileAtomic(opts.out, text);
  } catch (err) {
    throw new CrawlError("write", source, `cannot write ${opts.out}: ${errorText(err)}`, {
      cause: err,
    });
  }
  return { data, text, written: opts.out };
}

/** A short human-readable summary of a crawl and its diff against the cookbook. */
export function summarizeCrawl(data: CountriesData): string {
  const lines: string[] = [];
  const s = data.source;
  lines.push(`source: ${s.kind} ${s.location} (sha256 ${s.sha256.slice(0, 12)}…)`);
  lines.push(
    `entries: ${s.entries}, marked UN members: ${s.unMembersInSource}, kept: ${data.count}`,
  );
  for (const c of data.corrections) lines.push(`corrected: ${c.code} ${c.nameEn} — ${c.reason}`);
  for (const k of CONTINENTS) {
    lines.push(`  ${k}: ${data.countries.filter((c) => c.continent === k).length}`);
  }
  lines.push(`non-members: ${data.nonMembers.map((n) => `${n.name} (${n.status})`).join(", ")}`);
  lines.push(`dropped aliases (would name two entities): ${data.droppedAliases.length}`);
  for (const d of data.droppedAliases) lines.push(`  ${d.alias} → ${d.codes.join(", ")}`);
  const diff = data.cookbookDiff;
  lines.push("diff against the cookbook's 192-name list:");
  for (const m of diff.missingFromCookbook) {
    lines.push(`  missing from the cookbook: ${m.name} (${m.code}, ${m.nameEn}, ${m.continent})`);
  }
  for (const t of diff.firstListingTypos) {
    lines.push(
      `  typo in the cookbook's first listing: "${t.listed}" (resolves to ${
        t.listedResolvesTo ?? "nothing"
      }) for "${t.intended}" (${t.intendedResolvesTo ?? "nothing"})`,
    );
  }
  lines.push(`  unresolved cookbook names: ${diff.unresolvedCookbookNames.join(", ") || "none"}`);
  lines.push(`  continent differences: ${diff.continentDifferences.length}`);
  for (const d of diff.continentDifferences) {
    lines.push(`    ${d.name} (${d.code}): cookbook ${d.cookbook}, assigned ${d.assigned}`);
  }
  lines.push(
    `  spelling differences (cookbook vs source / CLDR): ${diff.spellingDifferences.length}`,
  );
  for (const d of diff.spellingDifferences) {
    lines.push(
      `    ${d.code}: cookbook "${d.cookbook}", source "${d.source}", CLDR "${d.cldr}"${
        d.spacingOnly ? " (spacing only)" : ""
      }`,
    );
  }
  return lines.join("\n");
}
