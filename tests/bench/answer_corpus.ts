/**
 * A seeded corpus of model answers for the scoring benchmarks, in the shapes models give: the
 * cookbook's clean format (60%), answers with errors (20%: a country dropped, one moved to another
 * continent, one repeated, an extra, unknown or non-member name), markdown with bold labels and
 * bullet lists (10%), numbered labels with full-width colons, `、` separators and notes in
 * parentheses (5%), and prose without any group (5%).
 *
 * @module
 */
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { COMPLETION_PREFIX, type Continent, CONTINENTS } from "../../lib/cookbook.ts";
import { getTaxonomy } from "../../lib/countries/taxonomy.ts";

/** One answer to score: the asked countries (canonical names) and the model's text. */
export interface CorpusAnswer {
  countries: string[];
  text: string;
}

const LABELS: Record<Continent, readonly string[]> = {
  "아시아": ["아시아"],
  "유럽": ["유럽"],
  "북아메리카": ["북아메리카", "북미"],
  "남아메리카": ["남아메리카", "남미"],
  "아프리카": ["아프리카"],
  "오세아니아": ["오세아니아", "대양주"],
};

/** `count` answers, the same for the same seed. */
export function answerCorpus(count: number, seed = 20240603): CorpusAnswer[] {
  const taxonomy = getTaxonomy();
  const rng = xoroshiro128plus(seed);
  const int = (min: number, max: number) => uniformInt(rng, min, max);
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
  const sample = <T>(xs: readonly T[], n: number): T[] => {
    const a = [...xs];
    for (let i = 0; i < n; i++) {
      const j = int(i, a.length - 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a.slice(0, n);
  };

  const answer = (): CorpusAnswer => {
    const countryCount = pick([10, 15, 20, 30]);
    const continentCount = int(2, 6);
    let continents = sample(CONTINENTS, continentCount);
    let pool = continents.flatMap((c) => taxonomy.countriesOf(c));
    while (pool.length < countryCount) { // e.g. 남아메리카 + 오세아니아 hold only 26
      continents = sample(CONTINENTS, continentCount);
      pool = continents.flatMap((c) => taxonomy.countriesOf(c));
    }
    // at least one country per chosen continent, the rest from any of them
    const chosen = new Set(continents.map((c) => pick(taxonomy.countriesOf(c))));
    while (chosen.size < countryCount) chosen.add(pick(pool));
    const countries = [...chosen];
    const groups = new Map<Continent, string[]>(continents.map((c) => [c, []]));
    for (const c of countries) groups.get(c.continent)!.push(c.name);

    const kind = int(0, 99);
    const entries = [...groups].map(([c, names]) => [pick(LABELS[c]), names] as [string, string[]]);
    if (kind >= 60 && kind < 80) {
      const [, first] = entries[0];
      const [, last] = entries[entries.length - 1];
      if (first.length > 1) first.pop();
      if (last.length > 1) entries[0][1].push(last.pop()!);
      first.push(first[0]);
      last.push(pick(["대만", "아틀란티스", "대한민국", "홍콩"]));
    }
    let text: string;
    if (kind >= 80 && kind < 90) {
      text = "분류 결과는 다음과 같습니다:\n\n" +
        entries.map(([l, ns]) => `**${l}:**\n${ns.map((n) => `- ${n}`).join("\n")}`).join("\n\n");
    } else if (kind >= 90 && kind < 95) {
      text = entries.map(([l, ns], k) =>
        `${k + 1}. ${l}： ${ns.map((n, j) => (j === 0 ? `${n} (수도 포함)` : n)).join("、")}。`
      ).join("\n");
    } else if (kind >= 95) {
      text = `목록의 나라들은 ${
        countries.map((c) => c.name).join(" ")
      } 입니다. 분류할 수 없습니다.`;
    } else {
      text = COMPLETION_PREFIX + entries.map(([l, ns]) => `${l}: ${ns.join(", ")}`).join("\n\n");
    }
    return { countries: countries.map((c) => c.name), text };
  };
  return Array.from({ length: count }, answer);
}
