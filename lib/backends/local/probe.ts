/**
 * The copy probe: a cheap measure of whether a base model can take names out of its prompt,
 * which is what sorting a list into continent blocks is made of. On held-out lists of 10, 15, 20
 * and 30 countries (the cookbook's sizes, drawn with their own seed), the model answers three
 * corpus requests greedily:
 *
 * - `copy`: copy the list — the share of listed countries that the answer reproduces;
 * - `label`: label each listed country `나라 - 대륙` — the share of listed countries written
 *   with their right continent;
 * - `filter`: name the listed countries of one continent — the share of those it names;
 * - `filterAfter`: the same with the list before the request (the continent named after the list);
 * - `block`: name the continent of the list's first country and the listed countries on it, as
 *   one `대륙: a, b` block — the share of those it names under the right continent;
 * - `anyOrder`: the listed countries of the `filter` continent, asked after the list in another
 *   order, as one `대륙: a, b` block — the share of those it names under that continent.
 *
 * Each also counts the names the answer writes that were not asked for (`extra`; for `anyOrder`
 * a name written twice counts too, since an answer in any order must still write each once). A model that
 * writes countries it knows instead of the ones asked scores near 0 on all of them.
 *
 * @module
 */
import { CONTINENTS } from "../../cookbook.ts";
import { getTaxonomy } from "../../countries/mod.ts";
import {
  anyOrderPrompt,
  copyPrompt,
  filterAfterPrompt,
  filterPrompt,
  firstBlockPrompt,
  labelPrompt,
} from "./corpus.ts";
import { Generator } from "./generate.ts";
import type { Lora } from "./model.ts";
import type { BaseModel } from "./models.ts";
import { createRng, shuffle } from "./random.ts";

/** One task's figures. */
export interface ProbeScore {
  /** Share of the wanted names the answers reproduce (0–1). */
  recall: number;
  /** Names written that were not wanted, per answer. */
  extraPerAnswer: number;
}

/** What {@link probeCopy} measured. */
export interface ProbeResult {
  copy: ProbeScore;
  label: ProbeScore;
  filter: ProbeScore;
  filterAfter: ProbeScore;
  block: ProbeScore;
  anyOrder: ProbeScore;
  /** Lists asked per task. */
  lists: number;
  seed: number;
}

/** Seed of the probe's lists: no pretraining stream uses it. */
export const PROBE_SEED = 90210;

const SIZES = [10, 15, 20, 30];

function names(text: string): string[] {
  return text.split(/,|\n/).map((s) => s.trim()).filter(Boolean);
}

function score(wanted: readonly string[], written: readonly string[]): [number, number] {
  const w = new Set(wanted);
  const got = new Set(written.filter((n) => w.has(n)));
  return [got.size, written.filter((n) => !w.has(n)).length];
}

/**
 * Scores a one-block answer `대륙: a, b`: the wanted names under the right continent, and the
 * names written that were not wanted (with `repeatsAreExtra`, a wanted name written again too).
 * Under another continent nothing counts as found.
 */
function scoreBlock(
  answer: string,
  continent: string,
  wanted: readonly string[],
  repeatsAreExtra: boolean,
): [number, number] {
  const [head, ...rest] = answer.split(":");
  const written = names(rest.join(":"));
  if (head.trim() !== continent) return [0, written.length];
  const [hit, extra] = score(wanted, written);
  return [hit, repeatsAreExtra ? written.length - hit : extra];
}

/**
 * Measures the copy probe on `lists` held-out lists per task (greedy answers), of the
 * cookbook's sizes unless `sizes` says otherwise.
 */
export async function probeCopy(
  model: BaseModel,
  opts: { lists?: number; seed?: number; lora?: Lora; sizes?: readonly number[] } = {},
): Promise<ProbeResult> {
  const lists = opts.lists ?? 8;
  const sizes = opts.sizes ?? SIZES;
  const seed = opts.seed ?? PROBE_SEED;
  const tax = getTaxonomy("un");
  const continentOf = new Map(tax.countries.map((c) => [c.name, c.continent]));
  const rng = createRng(seed);
  const sampling = {
    temperature: 0,
    topP: 1,
    topK: 0,
    repeatPenalty: 1,
    maxTokens: model.config.context,
    seed: 1,
  };
  const gen = new Generator(model.config, model.weights, opts.lora, model.tokenizer.tokens);
  const ask = async (prompt: string) => {
    const ids = model.tokenizer.encodeChat([{ role: "user", content: prompt }]).ids;
    if (ids.length + 8 > model.config.context) return "";
    return model.tokenizer.decode((await gen.generate(ids, sampling)).ids);
  };
  const totals = {
    copy: [0, 0, 0],
    label: [0, 0, 0],
    filter: [0, 0, 0],
    filterAfter: [0, 0, 0],
    block: [0, 0, 0],
    anyOrder: [0, 0, 0],
  };
  const add = (k: keyof typeof totals, wanted: number, [hit, extra]: [number, number]) => {
    totals[k][0] += hit;
    totals[k][1] += wanted;
    totals[k][2] += extra;
  };
  try {
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < lists; i++) {
      const list = shuffle(tax.countries.map((c) => c.name), rng).slice(0, sizes[i % sizes.length]);
      const text = list.join(", ");
      const present = CONTINENTS.filter((c) => list.some((n) => continentOf.get(n) === c));
      const cont = present[rng.int(present.length)];
      const chosen = list.filter((n) => continentOf.get(n) === cont);
      const filtered = (a: string) =>
        score(
          chosen,
          names(a.replace(/^.*?나라는\s*/, "").replace(/(입니다|없습니다)\.?\s*$/, "")),
        );
      jobs.push(
        ask(copyPrompt(text)).then((a) => add("copy", list.length, score(list, names(a)))),
        ask(labelPrompt(text)).then((a) => {
          const right = names(a).map((line) => {
            const [n, c] = line.split(" - ").map((s) => s.trim());
            return continentOf.get(n) === c ? n : `${line}\u0000`;
          });
          add("label", list.length, score(list, right));
        }),
        ask(filterPrompt(cont, text)).then((a) => add("filter", chosen.length, filtered(a))),
        ask(filterAfterPrompt(cont, text)).then((a) =>
          add("filterAfter", chosen.length, filtered(a))
        ),
        ask(anyOrderPrompt(cont, text)).then((a) =>
          add("anyOrder", chosen.length, scoreBlock(a, cont, chosen, true))
        ),
        ask(firstBlockPrompt(text)).then((a) => {
          const first = continentOf.get(list[0])!;
          const wanted = list.filter((n) => continentOf.get(n) === first);
          add("block", wanted.length, scoreBlock(a, first, wanted, false));
        }),
      );
    }
    await Promise.all(jobs);
  } finally {
    await gen.close();
  }
  const out = (k: keyof typeof totals): ProbeScore => ({
    recall: Math.round((totals[k][0] / totals[k][1]) * 1000) / 1000,
    extraPerAnswer: Math.round((totals[k][2] / lists) * 10) / 10,
  });
  return {
    copy: out("copy"),
    label: out("label"),
    filter: out("filter"),
    filterAfter: out("filterAfter"),
    block: out("block"),
    anyOrder: out("anyOrder"),
    lists,
    seed,
  };
}
