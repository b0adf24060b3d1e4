import {
  deepStrictEqual as assertEquals,
  ok as assert,
  strictEqual as assertStrictEquals,
} from "node:assert/strict";
import {
  buildNameIndex,
  CONTINENTS,
  type CountriesFile,
  createTaxonomy,
  getTaxonomy,
  normalizeName,
} from "../lib/countries/taxonomy.ts";
import { COOKBOOK_COUNTRIES } from "../lib/cookbook.ts";
import { CountriesFileSchema } from "../lib/crawl/schema.ts";
import data from "../data/countries.json" with { type: "json" };

const un = getTaxonomy();
const cookbook = getTaxonomy("cookbook");

Deno.test("data/countries.json, which the taxonomy loads as it is, matches its schema", () => {
  const check = CountriesFileSchema.safeParse(data);
  assert(check.success, check.error?.message);
  // The taxonomy reads the records as they are: the schema keeps every field of them.
  assertEquals(check.data.countries, data.countries);
  assertEquals(check.data.nonMembers, data.nonMembers);
});

Deno.test("un list has 193 members with unique codes, cookbook list 192", () => {
  assertEquals(un.list, "un");
  assertEquals(un.countries.length, 193);
  assertEquals(new Set(un.countries.map((c) => c.code)).size, 193);
  assertEquals(new Set(un.countries.map((c) => normalizeName(c.name))).size, 193);
  assertEquals(cookbook.list, "cookbook");
  assertEquals(cookbook.countries.length, 192);
  assertEquals(un.countries.filter((c) => !c.inCookbook).map((c) => c.code), ["CD"]);
  for (const c of un.countries) {
    assert(/^[A-Z]{2}$/.test(c.code), c.code);
    assert((CONTINENTS as readonly string[]).includes(c.continent), c.continent);
  }
});

Deno.test("getTaxonomy is memoised per list", () => {
  assertStrictEquals(getTaxonomy(), un);
  assertStrictEquals(getTaxonomy("un"), un);
  assertStrictEquals(getTaxonomy("cookbook"), cookbook);
});

Deno.test("every cookbook name resolves to itself, on its cookbook continent, in both lists", () => {
  for (const continent of CONTINENTS) {
    for (const name of COOKBOOK_COUNTRIES[continent]) {
      for (const t of [un, cookbook]) {
        const c = t.resolveCountry(name);
        assert(c, `${name} does not resolve in ${t.list}`);
        assertEquals(c.name, name);
        assertEquals(c.continent, continent, name);
        assert(c.inCookbook);
      }
    }
  }
});

Deno.test("cookbook order is kept within each continent", () => {
  for (const continent of CONTINENTS) {
    assertEquals(
      cookbook.countriesOf(continent).map((c) => c.name),
      [...COOKBOOK_COUNTRIES[continent]],
    );
  }
});

Deno.test("countriesOf counts in the cookbook's scheme", () => {
  const counts = Object.fromEntries(CONTINENTS.map((k) => [k, un.countriesOf(k).length]));
  assertEquals(counts, {
    "아시아": 45,
    "유럽": 45,
    "북아메리카": 23,
    "남아메리카": 12,
    "아프리카": 54,
    "오세아니아": 14,
  });
  assertEquals(cookbook.countriesOf("아프리카").length, 53);
  const at = (code: string) => un.countries.find((c) => c.code === code)?.continent;
  for (const code of ["RU", "CY", "TR"]) assertEquals(at(code), "아시아", code);
  for (const code of ["AM", "AZ", "GE"]) assertEquals(at(code), "유럽", code);
  for (const code of ["PA", "CU", "JM", "GT"]) assertEquals(at(code), "북아메리카", code);
});

Deno.test("common aliases resolve", () => {
  const cases: [string, string][] = [
    ["호주", "AU"],
    ["터키", "TR"],
    ["한국", "KR"],
    ["남한", "KR"],
    ["미합중국", "US"],
    ["체코 공화국", "CZ"],
    ["조선민주주의인민공화국", "KP"],
    ["아메리카 합중국", "US"],
    ["그레이트브리튼 북아일랜드 연합왕국", "GB"],
    ["콩고 민주 공화국", "CD"],
    ["콩고", "CG"],
    ["모리타니", "MR"],
    ["United Kingdom", "GB"],
  ];
  for (const [text, code] of cases) assertEquals(un.resolveCountry(text)?.code, code, text);
});

Deno.test("matching ignores whitespace and surrounding punctuation", () => {
  assertEquals(un.resolveCountry("아랍에미리트")?.name, "아랍 에미리트");
  assertEquals(un.resolveCountry(" 대한 민국 ")?.name, "대한민국");
  assertEquals(un.resolveCountry("(미국),")?.code, "US");
  assertEquals(un.resolveCountry("“세인트루시아”")?.name, "세인트 루시아");
  assertEquals(un.resolveCountry("\t오스트 레일리아\n")?.code, "AU");
  assertEquals(normalizeName(" 대한 민국 "), "대한민국");
  assertEquals(normalizeName("- São Tomé -"), "saotome");
  assertEquals(un.resolveCountry("아틀란티스"), undefined);
  assertEquals(un.resolveCountry(""), undefined);
  assertEquals(un.resolveCountry("  ,. "), undefined);
});

Deno.test("every alias resolves to its own country", () => {
  for (const c of un.countries) {
    for (const a of c.aliases) assertEquals(un.resolveCountry(a)?.code, c.code, a);
  }
});

Deno.test("the source's ambiguous Dominica alias is dropped and reported; canonical wins", () => {
  const dropped = un.droppedAliases.find((d) => normalizeName(d.alias) === "도미니카공화국");
  assert(dropped, "도미니카 공화국 not reported");
  assertEquals([...dropped.codes], ["DM", "DO"]);
  const dm = un.countries.find((c) => c.code === "DM")!;
  assertEquals(dm.name, "도미니카");
  assert(!dm.aliases.some((a) => normalizeName(a) === "도미니카공화국"));
  assertEquals(un.resolveCountry("도미니카 공화국")?.code, "DO");
  assertEquals(un.resolveCountry("도미니카")?.code, "DM");
});

function fileWith(
  countries: { code: string; name: string; aliases: string[] }[],
  nonMembers: CountriesFile["nonMembers"] = [],
): CountriesFile {
  return {
    countries: countries.map((c) => ({
      ...c,
      nameEn: `Country ${c.code}`,
      continent: "아시아",
      inCookbook: true,
    })),
    nonMembers,
    droppedAliases: [],
  };
}

Deno.test("an alias shared by two countries binds to neither and is reported", () => {
  const t = createTaxonomy(fileWith([
    { code: "AA", name: "가나다", aliases: ["공통"] },
    { code: "BB", name: "라마바", aliases: ["공 통", "바바"] },
  ]));
  assertEquals(t.resolveCountry("공통"), undefined);
  assertEquals(t.resolveCountry("바바")?.code, "BB");
  assertEquals(t.droppedAliases.map((d) => [...d.codes]), [["AA", "BB"]]);
});

Deno.test("a canonical name beats another country's alias", () => {
  const t = createTaxonomy(fileWith([
    { code: "AA", name: "가나다", aliases: ["라마 바"] },
    { code: "BB", name: "라마바", aliases: [] },
  ]));
  assertEquals(t.resolveCountry("라마바")?.code, "BB");
  assertEquals(t.resolveCountry("가나다")?.code, "AA");
  assertEquals(t.droppedAliases.map((d) => [d.alias, [...d.codes]]), [["라마 바", ["AA", "BB"]]]);
});

Deno.test("buildNameIndex: lowest tier wins, ties at the best tier bind nobody", () => {
  const { index, dropped } = buildNameIndex([
    { name: "x", code: "AA", tier: 1 },
    { name: "X", code: "BB", tier: 0 },
    { name: "y", code: "AA", tier: 1 },
    { name: "y", code: "BB", tier: 1 },
    { name: "z", code: "AA", tier: 1 },
    { name: "z", code: "AA", tier: 0 },
  ]);
  assertEquals(index.get("x"), "BB");
  assertEquals(index.has("y"), false);
  assertEquals(index.get("z"), "AA");
  assertEquals(dropped.map((d) => d.alias), ["x", "y"]);
});

Deno.test("known non-members are recognised, not countries", () => {
  const cases: [string, string, string][] = [
    ["대만", "TW", "non-member"],
    ["타이완", "TW", "non-member"],
    ["코소보", "XK", "non-member"],
    ["팔레스타인", "PS", "observer"],
    ["바티칸", "VA", "observer"],
    ["교황청", "VA", "observer"],
    ["홍콩", "HK", "non-member"],
    ["서사하라", "EH", "non-member"],
  ];
  for (const [text, code, status] of cases) {
    assertEquals(un.resolveCountry(text), undefined, text);
    const r = un.resolve(text);
    assert(r?.kind === "non-member", text);
    assertEquals(r.entity.code, code);
    assertEquals(r.entity.status, status);
  }
  assertEquals(un.resolve("중국")?.kind, "country");
  assert(!un.countries.some((c) => c.code === "VA"));
});

Deno.test("the cookbook list does not know DR Congo; the un list does", () => {
  assertEquals(cookbook.resolveCountry("콩고 민주 공화국"), undefined);
  assertEquals(cookbook.resolve("콩고 민주 공화국"), undefined);
  assertEquals(un.resolveCountry("콩고민주공화국")?.continent, "아프리카");
});

Deno.test("continent labels and aliases resolve", () => {
  const cases: [string, string][] = [
    ["북미", "북아메리카"],
    ["남미", "남아메리카"],
    ["대양주", "오세아니아"],
    ["오세아니아주", "오세아니아"],
    ["아프리카 대륙", "아프리카"],
    ["아시아주", "아시아"],
    ["유럽주", "유럽"],
    ["North America", "북아메리카"],
    [" 유럽: ", "유럽"],
  ];
  for (const [label, continent] of cases) {
    assertEquals(un.resolveContinent(label), continent, label);
  }
  for (const c of CONTINENTS) assertEquals(un.resolveContinent(c), c);
  assertEquals(un.resolveContinent("남극"), undefined);
  assertEquals(un.resolveContinent("중남미"), undefined);
});
