/**
 * The pretraining corpus of the local base models, generated from the country taxonomy
 * (`data/countries.json`) and a seed. It teaches what a base model should know before tuning:
 * which continent each country is on, and how to copy, filter and group lists of names. It never
 * contains the task the cookbook tunes on — sorting a list into continent blocks — so tuning has
 * something to teach.
 *
 * Kinds of example ({@link CORPUS_MIX} gives their shares):
 * - `facts`: prose, 3–6 sentences of the form "X는 아시아에 있는 나라이다." (a document);
 * - `members`: prose listing 3–8 countries of one continent (a document);
 * - `question`: a chat turn asking one country's continent, answered in a sentence;
 * - `copy`: a chat turn asking to copy a list of 5–30 countries verbatim;
 * - `filter`: a chat turn asking for the countries of one continent in a list, answered in a
 *   sentence that lists them in the order given (or says there are none);
 * - `label`: a chat turn asking each listed country's continent, one `나라 - 대륙` line each, in
 *   list order (per-item labels, never grouped);
 * - `group-length`, `group-initial`: chat turns grouping a list by the number of syllables of
 *   each name, or by its first consonant, as `label: a, b` blocks under their own preamble.
 *
 * @module
 */
import { CONTINENTS } from "../cookbook.ts";
import { getTaxonomy, type Taxonomy } from "../countries.ts";
import { createRng, type Rng, shuffle } from "./random.ts";
import type { ChatMessage } from "./tokenizer.ts";

/** One corpus example: a plain document, or a chat turn whose answer is trained on. */
export type CorpusExample =
  | { kind: CorpusKind; document: string }
  | { kind: CorpusKind; messages: ChatMessage[]; answer: string };

/** The kinds of example. */
export type CorpusKind =
  | "facts"
  | "members"
  | "question"
  | "copy"
  | "filter"
  | "label"
  | "group-length"
  | "group-initial";

/** Share of each kind (weights). */
export const CORPUS_MIX: Readonly<Record<CorpusKind, number>> = {
  facts: 14,
  members: 8,
  question: 10,
  copy: 16,
  filter: 22,
  label: 14,
  "group-length": 8,
  "group-initial": 8,
};

/**
 * A second-stage mix that weighs copying most: it continues a model that has learned the
 * templates and the names but not yet to copy from the prompt.
 */
export const COPY_HEAVY_MIX: Readonly<Record<CorpusKind, number>> = {
  facts: 5,
  members: 2,
  question: 15,
  copy: 30,
  filter: 25,
  label: 20,
  "group-length": 2,
  "group-initial": 1,
};

/** Version of the generator's templates, recorded with the weights. */
export const CORPUS_VERSION = "corpus v1";

const INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ";

function lastSyllableHasCoda(word: string): boolean {
  const ch = word.trim().at(-1) ?? "";
  const code = ch.codePointAt(0) ?? 0;
  if (code >= 0xac00 && code <= 0xd7a3) return (code - 0xac00) % 28 !== 0;
  return false;
}

/** Topic particle: 은 after a final consonant, 는 otherwise. */
export function topic(word: string): string {
  return word + (lastSyllableHasCoda(word) ? "은" : "는");
}

function initialOf(word: string): string {
  const code = word.codePointAt(0) ?? 0;
  if (code < 0xac00 || code > 0xd7a3) return word[0];
  return INITIALS[Math.floor((code - 0xac00) / 588)];
}

function syllables(word: string): number {
  return [...word.replace(/\s/g, "")].length;
}

function pick<T>(items: readonly T[], rng: Rng): T {
  return items[rng.int(items.length)];
}

/** Groups in first-appearance order, items in list order. */
function groupBy(names: readonly string[], key: (n: string) => string): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const n of names) {
    const k = key(n);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(n);
  }
  return [...groups];
}

/** A seeded stream of corpus examples over one taxonomy. */
export class CorpusGenerator {
  readonly #rng: Rng;
  readonly #tax: Taxonomy;
  readonly #names: string[];
  readonly #continentOf = new Map<string, string>();
  readonly #kinds: CorpusKind[];
  readonly #weights: number[];

  constructor(
    seed: number,
    taxonomy: Taxonomy = getTaxonomy("un"),
    mix: Readonly<Record<CorpusKind, number>> = CORPUS_MIX,
  ) {
    this.#rng = createRng(seed);
    this.#tax = taxonomy;
    this.#names = taxonomy.countries.map((c) => c.name);
    for (const c of taxonomy.countries) this.#continentOf.set(c.name, c.continent);
    this.#kinds = Object.keys(CORPUS_MIX) as CorpusKind[];
    this.#weights = this.#kinds.map((k) => mix[k] ?? 0);
  }

  #list(min: number, max: number): string[] {
    const sizes = [10, 15, 20, 30];
    const r = this.#rng;
    const n = r.next() < 0.5 ? pick(sizes, r) : min + r.int(max - min + 1);
    return shuffle([...this.#names], r).slice(0, n);
  }

  #kind(): CorpusKind {
    const total = this.#weights.reduce((a, b) => a + b, 0);
    let x = this.#rng.next() * total;
    for (let i = 0; i < this.#kinds.length; i++) {
      x -= this.#weights[i];
      if (x < 0) return this.#kinds[i];
    }
    return this.#kinds[this.#kinds.length - 1];
  }

  /** The next example. */
  next(): CorpusExample {
    const r = this.#rng;
    const kind = this.#kind();
    const sep = ", ";
    switch (kind) {
      case "facts": {
        const n = 3 + r.int(4);
        const sentences = shuffle([...this.#names], r).slice(0, n).map((c) => {
          const cont = this.#continentOf.get(c)!;
          return pick([
            `${topic(c)} ${cont}에 있는 나라이다.`,
            `${topic(c)} ${cont}의 나라입니다.`,
            `${c}의 대륙은 ${cont}이다.`,
          ], r);
        });
        return { kind, document: sentences.join(" ") };
      }
      case "members": {
        const cont = pick(CONTINENTS, r);
        const all = this.#tax.countriesOf(cont).map((c) => c.name);
        const some = shuffle([...all], r).slice(0, 3 + r.int(6));
        return {
          kind,
          document: pick([
            `${cont}에는 ${some.join(sep)} 등의 나라가 있다.`,
            `${some.join(sep)}${
              lastSyllableHasCoda(some.at(-1)!) ? "은" : "는"
            } 모두 ${cont}에 있는 나라이다.`,
          ], r),
        };
      }
      case "question": {
        const c = pick(this.#names, r);
        const cont = this.#continentOf.get(c)!;
        const q = pick([`${topic(c)} 어느 대륙에 있어?`, `${topic(c)} 어느 대륙의 나라인가요?`], r);
        return {
          kind,
          messages: [{ role: "user", content: q }],
          answer: `${topic(c)} ${cont}에 있습니다.`,
        };
      }
      case "copy": {
        const list = this.#list(5, 30).join(sep);
        const q = pick([
          "다음 목록을 그대로 옮겨 적어줘.",
          "목록을 한 글자도 바꾸지 말고 다시 써줘.",
        ], r);
        return { kind, messages: [{ role: "user", content: `${q}\n\n${list}` }], answer: list };
      }
      case "filter": {
        const list = this.#list(5, 30);
        const present = [...new Set(list.map((c) => this.#continentOf.get(c)!))];
        const cont = r.next() < 0.9 ? pick(present, r) : pick(CONTINENTS, r);
        const chosen = list.filter((c) => this.#continentOf.get(c) === cont);
        const answer = chosen.length
          ? `${cont}에 있는 나라는 ${chosen.join(sep)}입니다.`
          : `${cont}에 있는 나라는 없습니다.`;
        return {
          kind,
          messages: [{
            role: "user",
            content: `목록에서 ${cont}에 있는 나라만 골라줘.\n\n${list.join(sep)}`,
          }],
          answer,
        };
      }
      case "label": {
        const list = this.#list(5, 15).slice(0, 15);
        return {
          kind,
          messages: [{
            role: "user",
            content: `목록의 나라마다 어느 대륙에 있는지 적어줘.\n\n${list.join(sep)}`,
          }],
          answer: list.map((c) => `${c} - ${this.#continentOf.get(c)}`).join("\n"),
        };
      }
      case "group-length":
      case "group-initial": {
        const list = this.#list(5, 30);
        const byLength = kind === "group-length";
        const groups = groupBy(
          list,
          byLength ? (n) => `${syllables(n)}글자` : (n) => initialOf(n),
        );
        const ask = byLength ? "이름의 글자 수별로" : "이름의 첫 자음별로";
        const pre = byLength ? "글자 수에 따라 나누었습니다." : "첫 자음에 따라 나누었습니다.";
        return {
          kind,
          messages: [{
            role: "user",
            content: `목록의 나라를 ${ask} 묶어줘.\n\n${list.join(sep)}`,
          }],
          answer: [pre, ...groups.map(([k, v]) => `${k}: ${v.join(sep)}`)].join("\n\n"),
        };
      }
    }
  }

  /** The next `n` examples. */
  take(n: number): CorpusExample[] {
    return Array.from({ length: n }, () => this.next());
  }
}

/** Every text the corpus can contain, for building the vocabulary: templates and all names. */
export function corpusAlphabet(taxonomy: Taxonomy = getTaxonomy("un")): string[] {
  const texts: string[] = [INITIALS, "0123456789", ...CONTINENTS];
  for (const c of taxonomy.countries) texts.push(c.name, c.nameEn, ...c.aliases);
  for (const n of taxonomy.nonMembers) texts.push(n.name, n.nameEn, ...n.aliases);
  const g = new CorpusGenerator(1, taxonomy);
  for (const e of g.take(2000)) {
    texts.push(
      "document" in e ? e.document : [...e.messages.map((m) => m.content), e.answer].join("\n"),
    );
  }
  return texts;
}
