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
 * - `copy`: a chat turn asking to copy a list of countries verbatim;
 * - `copy-words`: the same with made-up words (strings of 2–4 syllables taken from country
 *   names), which cannot be answered from memory, only by copying from the prompt;
 * - `shuffle`: a chat turn asking to write every listed country once in another order, answered
 *   with a random permutation of the list;
 * - `filter`: a chat turn asking for the countries of one continent in a list, answered in a
 *   sentence that lists them in the order given (or says there are none);
 * - `filter-after`: the same with the list before the question, so the continent comes after the
 *   names and the answer must find them by it as it writes them (as a sorted answer must);
 * - `exclude`: a chat turn asking for the list without one continent's countries, answered with
 *   the rest in the order given;
 * - `label`: a chat turn asking each listed country's continent, one `나라 - 대륙` line each, in
 *   list order (per-item labels, never grouped);
 * - `group-length`, `group-initial`: chat turns grouping a list by the number of syllables of
 *   each name, or by its first consonant, as `label: a, b` blocks under their own preamble, half
 *   the time worded like the cookbook's ("…을 이름의 글자 수별로 분류하면 다음과 같습니다");
 *   never by continent;
 * - `first-block`: a chat turn asking for the continent of the list's first country and every
 *   listed country on it, answered as one `대륙: a, b` block in list order — the step a sorted
 *   answer repeats (name a continent, then pick its countries out of the list), one block only.
 * - `find-any-order`: the list, then a request for one continent's listed countries in another
 *   order, answered as one `대륙: a, b` block in a random order — as a sorted answer's blocks are
 *   in the cookbook's completions (sampled order, not the list's), so a model learns to pick a
 *   continent's countries out of a list in any order, each once; one block only.
 *
 * Lists have 3 items up to {@link CorpusGenerator.maxItems} (30 by default); pretraining raises
 * that bound as it goes (short lists first, see `pretrain.ts`).
 *
 * @module
 */
import { CONTINENTS } from "../../cookbook.ts";
import { getTaxonomy, type Taxonomy } from "../../countries/mod.ts";
import { createRng, type Rng, shuffle } from "./random.ts";
import type { ChatMessage } from "./tokenizer.ts";

/** One corpus example: a plain document, or a chat turn whose answer is trained on. */
export type CorpusExample =
  | { kind: CorpusKind; document: string }
  | { kind: CorpusKind; messages: ChatMessage[]; answer: string };

/**
 * Shares of the kinds of example (weights); a kind a mix does not name is never drawn, and
 * adding a kind leaves the streams of the mixes that do not name it as they were.
 */
export type CorpusMix = Readonly<Partial<Record<CorpusKind, number>>>;

/** The kinds of example. */
export type CorpusKind =
  | "facts"
  | "members"
  | "question"
  | "copy"
  | "copy-words"
  | "shuffle"
  | "filter"
  | "filter-after"
  | "exclude"
  | "label"
  | "group-length"
  | "group-initial"
  | "first-block"
  | "find-any-order";

/** Every kind, in a fixed order (the order weights are read in). */
export const CORPUS_KINDS: readonly CorpusKind[] = [
  "facts",
  "members",
  "question",
  "copy",
  "copy-words",
  "shuffle",
  "filter",
  "filter-after",
  "exclude",
  "label",
  "group-length",
  "group-initial",
  "first-block",
  "find-any-order",
];

/**
 * Share of each kind (weights): mostly tasks that copy names out of the prompt — verbatim, in
 * another order, one continent's only, all but one continent's, each with its label — since
 * that is what a list-sorting answer is made of; enough prose and questions to learn which
 * continent each country is on.
 */
export const CORPUS_MIX: CorpusMix = {
  facts: 8,
  members: 4,
  question: 8,
  copy: 14,
  "copy-words": 10,
  shuffle: 12,
  filter: 16,
  exclude: 8,
  label: 14,
  "group-length": 3,
  "group-initial": 3,
};

/** A mix of the copying kinds only (verbatim, made-up words, another order). */
export const COPY_HEAVY_MIX: CorpusMix = {
  facts: 2,
  members: 0,
  question: 2,
  copy: 30,
  "copy-words": 30,
  shuffle: 20,
  filter: 8,
  exclude: 0,
  label: 8,
  "group-length": 0,
  "group-initial": 0,
};

/**
 * A mix rich in the skills sorting into continents is made of — picking one continent's
 * countries out of a list, leaving them out, labelling each with its continent — with enough
 * copying that copying is kept; never the continent-block sorting format.
 */
export const SKILLS_MIX: CorpusMix = {
  facts: 3,
  members: 1,
  question: 3,
  copy: 10,
  "copy-words": 6,
  shuffle: 6,
  filter: 30,
  exclude: 15,
  label: 24,
  "group-length": 1,
  "group-initial": 1,
};

/**
 * The skills mix with grouping into labelled blocks (by syllable count, by first consonant) made
 * common and no member lists: blocks are the shape of a sorted answer, filled here from the list
 * under labels that are not continents, so that a model tuned on continent blocks fills them from
 * the list rather than reciting a continent's members.
 */
export const BLOCKS_MIX: CorpusMix = {
  facts: 3,
  members: 0,
  question: 3,
  copy: 8,
  "copy-words": 5,
  shuffle: 5,
  filter: 24,
  exclude: 12,
  label: 20,
  "group-length": 10,
  "group-initial": 10,
};

/**
 * A mix rich in finding a continent's countries in a list that was written before the continent
 * is named (`filter-after`, `first-block`), the step every block of a sorted answer takes, with
 * the other skills kept; never the continent-block sorting format.
 */
export const FIND_MIX: CorpusMix = {
  facts: 2,
  members: 0,
  question: 2,
  copy: 8,
  "copy-words": 4,
  shuffle: 4,
  filter: 10,
  "filter-after": 30,
  exclude: 5,
  label: 15,
  "group-length": 0,
  "group-initial": 0,
  "first-block": 20,
};

/**
 * A mix rich in finding a continent's countries in a list in any order (`find-any-order`), as
 * each block of the cookbook's completions lists them, with finding in list order, grouping by
 * other keys (several blocks, never by continent) and the other skills kept.
 */
export const ORDER_MIX: CorpusMix = {
  facts: 2,
  question: 2,
  copy: 6,
  "copy-words": 3,
  shuffle: 6,
  filter: 6,
  "filter-after": 12,
  exclude: 3,
  label: 15,
  "group-length": 4,
  "group-initial": 4,
  "first-block": 12,
  "find-any-order": 25,
};

/**
 * A mix in which most examples are answered in a random order — one continent's listed countries
 * (`find-any-order`) or the whole list (`shuffle`) — so that a model learns to pick its next name
 * from the listed ones it has not written yet, rather than the one after the last it wrote; with
 * finding in list order, labelling and copying kept. Short lists first (`--curriculum 6,0.6`)
 * make the written names a large share of the list, where leaving them out matters most.
 */
export const ANY_ORDER_MIX: CorpusMix = {
  copy: 5,
  shuffle: 25,
  filter: 3,
  "filter-after": 10,
  exclude: 2,
  label: 15,
  "first-block": 10,
  "find-any-order": 30,
};

/**
 * Version of the generator's streams, recorded with the weights: a checkpoint resumes only under
 * the version it was written by. It changes when the examples a seed and mix gave change (a new
 * template, another draw), not when a kind is added that the existing mixes do not name.
 */
export const CORPUS_VERSION = "corpus v3";

/** Longest list the corpus writes (the cookbook's lists have 10–30 countries). */
export const MAX_LIST_ITEMS = 30;

/** Longest list of a `label` example unless a generator says otherwise. */
export const LABEL_ITEMS = 20;

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

/** The request of a `copy` example (one of two phrasings; the first when `rng` is absent). */
export function copyPrompt(list: string, rng?: Rng): string {
  const q = ["다음 목록을 그대로 옮겨 적어줘.", "목록을 한 글자도 바꾸지 말고 다시 써줘."];
  return `${rng ? pick(q, rng) : q[0]}\n\n${list}`;
}

/** The request of a `filter` example. */
export function filterPrompt(continent: string, list: string): string {
  return `목록에서 ${continent}에 있는 나라만 골라줘.\n\n${list}`;
}

/** The request of a `first-block` example. */
export function firstBlockPrompt(list: string): string {
  return `목록의 첫 나라가 있는 대륙을 적고, 목록에서 그 대륙에 있는 나라를 모두 골라줘.\n\n${list}`;
}

/**
 * The request of a `find-any-order` example: the list, then one continent's countries asked for
 * in another order.
 */
export function anyOrderPrompt(continent: string, list: string): string {
  return `${list}\n\n목록에서 ${continent}에 있는 나라를 순서를 바꾸어 모두 골라줘.`;
}

/**
 * The request of a `filter` example with the list before the question: the continent comes after
 * the names, so the answer must find them by it as it writes (as a sorted answer does, naming a
 * continent after the list), not mark them as it reads.
 */
export function filterAfterPrompt(continent: string, list: string): string {
  return `${list}\n\n목록에서 ${continent}에 있는 나라만 골라줘.`;
}

/** The request of a `label` example. */
export function labelPrompt(list: string): string {
  return `목록의 나라마다 어느 대륙에 있는지 적어줘.\n\n${list}`;
}

/** The answer of a `filter` example: the chosen countries in list order, or that there are none. */
export function filterAnswer(continent: string, chosen: readonly string[]): string {
  return chosen.length
    ? `${continent}에 있는 나라는 ${chosen.join(", ")}입니다.`
    : `${continent}에 있는 나라는 없습니다.`;
}

/** The answer of a `label` example: one `나라 - 대륙` line per country, in list order. */
export function labelAnswer(
  list: readonly string[],
  continentOf: ReadonlyMap<string, string>,
): string {
  return list.map((c) => `${c} - ${continentOf.get(c)}`).join("\n");
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
  readonly #kinds: readonly CorpusKind[] = CORPUS_KINDS;
  readonly #weights: number[];
  readonly #syllables: string[];
  readonly #labelItems: number;
  /** Longest list the next examples may have (3 … {@link MAX_LIST_ITEMS}). */
  maxItems = MAX_LIST_ITEMS;

  /**
   * `seed` starts a stream; a `state()` of an earlier generator continues its stream exactly.
   * `labelItems` caps the lists of `label` examples (20 in `corpus v2`'s default).
   */
  constructor(
    seed: number | readonly number[],
    taxonomy: Taxonomy = getTaxonomy("un"),
    mix: CorpusMix = CORPUS_MIX,
    { labelItems = LABEL_ITEMS }: { labelItems?: number } = {},
  ) {
    this.#rng = createRng(seed);
    this.#labelItems = labelItems;
    this.#tax = taxonomy;
    this.#names = taxonomy.countries.map((c) => c.name);
    for (const c of taxonomy.countries) this.#continentOf.set(c.name, c.continent);
    this.#weights = this.#kinds.map((k) => mix[k] ?? 0);
    this.#syllables = [...new Set(this.#names.flatMap((n) => [...n.replace(/\s/g, "")]))].sort();
  }

  /** A list of 3 … `maxItems` items (at most `cap`), half the time one of the cookbook's sizes. */
  #size(cap = MAX_LIST_ITEMS): number {
    const r = this.#rng;
    const max = Math.max(3, Math.min(cap, this.maxItems));
    const sizes = [10, 15, 20, 30].filter((n) => n <= max);
    return sizes.length && r.next() < 0.5 ? pick(sizes, r) : 3 + r.int(max - 2);
  }

  #list(cap?: number): string[] {
    return shuffle([...this.#names], this.#rng).slice(0, this.#size(cap));
  }

  /** A made-up word of 2–4 syllables drawn from country names. */
  #word(): string {
    const r = this.#rng;
    return Array.from({ length: 2 + r.int(3) }, () => pick(this.#syllables, r)).join("");
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
        const list = this.#list().join(sep);
        return { kind, messages: [{ role: "user", content: copyPrompt(list, r) }], answer: list };
      }
      case "copy-words": {
        const words = new Set<string>();
        const n = this.#size();
        while (words.size < n) words.add(this.#word());
        const list = [...words].join(sep);
        const q = pick(["다음 단어들을 그대로 옮겨 적어줘.", "단어 목록을 그대로 다시 써줘."], r);
        return { kind, messages: [{ role: "user", content: `${q}\n\n${list}` }], answer: list };
      }
      case "shuffle": {
        const list = this.#list();
        let other = shuffle([...list], r);
        if (other.join() === list.join()) other = [...list].reverse();
        const q = pick([
          "목록의 나라를 순서를 바꾸어 모두 적어줘.",
          "목록의 나라를 하나도 빠짐없이 다른 순서로 적어줘.",
        ], r);
        return {
          kind,
          messages: [{ role: "user", content: `${q}\n\n${list.join(sep)}` }],
          answer: other.join(sep),
        };
      }
      case "exclude": {
        const list = this.#list();
        const present = [...new Set(list.map((c) => this.#continentOf.get(c)!))];
        const cont = pick(present, r);
        const rest = list.filter((c) => this.#continentOf.get(c) !== cont);
        return {
          kind,
          messages: [{
            role: "user",
            content: `목록에서 ${cont}에 있는 나라를 빼고 나머지를 적어줘.\n\n${list.join(sep)}`,
          }],
          answer: rest.length ? rest.join(sep) : "남는 나라가 없습니다.",
        };
      }
      case "filter":
      case "filter-after": {
        const list = this.#list();
        const present = [...new Set(list.map((c) => this.#continentOf.get(c)!))];
        const cont = r.next() < 0.9 ? pick(present, r) : pick(CONTINENTS, r);
        const chosen = list.filter((c) => this.#continentOf.get(c) === cont);
        const prompt = kind === "filter" ? filterPrompt : filterAfterPrompt;
        return {
          kind,
          messages: [{ role: "user", content: prompt(cont, list.join(sep)) }],
          answer: filterAnswer(cont, chosen),
        };
      }
      case "label": {
        const list = this.#list(this.#labelItems);
        return {
          kind,
          messages: [{ role: "user", content: labelPrompt(list.join(sep)) }],
          answer: labelAnswer(list, this.#continentOf),
        };
      }
      case "first-block": {
        const list = this.#list();
        const cont = this.#continentOf.get(list[0])!;
        const chosen = list.filter((c) => this.#continentOf.get(c) === cont);
        return {
          kind,
          messages: [{ role: "user", content: firstBlockPrompt(list.join(sep)) }],
          answer: `${cont}: ${chosen.join(sep)}`,
        };
      }
      case "find-any-order": {
        const list = this.#list();
        const present = [...new Set(list.map((c) => this.#continentOf.get(c)!))];
        const cont = pick(present, r);
        const chosen = shuffle(list.filter((c) => this.#continentOf.get(c) === cont), r);
        return {
          kind,
          messages: [{ role: "user", content: anyOrderPrompt(cont, list.join(sep)) }],
          answer: `${cont}: ${chosen.join(sep)}`,
        };
      }
      case "group-length":
      case "group-initial": {
        const list = this.#list();
        const byLength = kind === "group-length";
        const groups = groupBy(
          list,
          byLength ? (n) => `${syllables(n)}글자` : (n) => initialOf(n),
        );
        // Half the time the request and preamble are worded as the cookbook words its own (with
        // another key), so every syllable of the cookbook's request and preamble is trained:
        // tuning (LoRA, base weights frozen) cannot teach a token pretraining never used.
        const key = byLength ? "이름의 글자 수별로" : "이름의 첫 자음별로";
        const cookbookWords = this.#rng.next() < 0.5;
        const ask = cookbookWords
          ? `목록에서 나라를 ${key} 분류해줘.`
          : `목록의 나라를 ${key} 묶어줘.`;
        const pre = cookbookWords
          ? `목록에 있는 나라들을 ${key} 분류하면 다음과 같습니다`
          : byLength
          ? "글자 수에 따라 나누었습니다."
          : "첫 자음에 따라 나누었습니다.";
        return {
          kind,
          messages: [{ role: "user", content: `${ask}\n\n${list.join(sep)}` }],
          answer: [pre, ...groups.map(([k, v]) => `${k}: ${v.join(sep)}`)].join("\n\n"),
        };
      }
    }
  }

  /** The stream's position: pass it as `seed` to continue from here. */
  state(): number[] {
    return this.#rng.state();
  }

  /** The next `n` examples. */
  take(n: number): CorpusExample[] {
    return Array.from({ length: n }, () => this.next());
  }
}

/** The words the vocabulary makes whole tokens: every country's and continent's name, and `, `. */
export function corpusWords(taxonomy: Taxonomy = getTaxonomy("un")): string[] {
  return [...CONTINENTS, ...taxonomy.countries.map((c) => c.name), ", "];
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
