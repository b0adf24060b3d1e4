/**
 * Where a model's probability goes when it must name one more of a list's countries and may pick
 * any of several: teacher-forced, at each country name of an answer written in blocks (one
 * continent's listed countries each, in any order), the probability on the block's listed
 * countries not yet written, and on countries of the block's continent that are not in the list
 * at all — grouped by how many listed ones were left to choose from. A model that fills a block
 * from what it knows of the continent instead of from the list puts its mass on the second;
 * one that cannot choose among several puts it there once two or more are left.
 *
 * Works for both answer formats the local models meet: one block asked for by name
 * (`find-any-order`, {@link anyOrderAnswers}) and the cookbook's sorted completions (any number
 * of blocks, built by the caller from tuning rows).
 *
 * @module
 */
import { type Continent, CONTINENTS } from "../../cookbook.ts";
import { getTaxonomy } from "../../countries/mod.ts";
import { anyOrderPrompt } from "./corpus.ts";
import { createRng, shuffle } from "./random.ts";
import type { ChatMessage, Tokenizer } from "./tokenizer.ts";
import type { Example } from "./train.ts";

/** One answer that writes a list's countries in blocks, each block's in any order. */
export interface BlockAnswer {
  messages: ChatMessage[];
  answer: string;
  /** The countries the prompt lists. */
  list: readonly string[];
  /** The answer's blocks: a continent and the listed countries it takes. */
  blocks: readonly { continent: Continent; countries: readonly string[] }[];
}

/** Where the probability went at the names written with `remaining` listed ones left. */
export interface ListMass {
  /** Listed countries of the block not yet written: `1`, `2`, `3-4`, `5-8`, `9+`. */
  remaining: string;
  /** Name positions counted. */
  positions: number;
  /** Mean probability on the block's listed countries not yet written. */
  listed: number;
  /** Mean probability on countries of the block's continent that the list does not have. */
  unlisted: number;
  /** Positions where an unlisted country is more likely than every listed one left. */
  unlistedFirst: number;
}

/** The next-token probabilities at each answer position of an example (see `teacherForced.ts`). */
export type Probabilities = (example: Example) => Promise<Float32Array[]>;

const BANDS = ["1", "2", "3-4", "5-8", "9+"] as const;

function band(left: number): (typeof BANDS)[number] {
  return left >= 9 ? "9+" : left >= 5 ? "5-8" : left >= 3 ? "3-4" : left === 2 ? "2" : "1";
}

/**
 * Teacher-forced list mass over `answers`, by how many listed countries were left (bands with no
 * position are left out). `probabilities` runs the model (with or without an adapter).
 */
export async function listMass(
  answers: readonly BlockAnswer[],
  tok: Tokenizer,
  probabilities: Probabilities,
): Promise<ListMass[]> {
  const tax = getTaxonomy("un");
  const idOf = (name: string) => {
    const ids = tok.encode(name);
    if (ids.length !== 1) throw new Error(`"${name}" is not one token`);
    return ids[0];
  };
  const membersOf = new Map(
    CONTINENTS.map((c) => [c, tax.countriesOf(c).map((x) => idOf(x.name))]),
  );
  const continentOf = new Map(CONTINENTS.map((c) => [idOf(c), c]));
  const sums = new Map(BANDS.map((b) => [b, { n: 0, listed: 0, unlisted: 0, first: 0 }]));
  for (const a of answers) {
    const { ids, answerStart } = tok.encodeChat(a.messages, a.answer);
    const probs = await probabilities({ ids, lossFrom: answerStart });
    const listed = new Set(a.list.map(idOf));
    let left = new Set<number>();
    let members: number[] = [];
    for (let at = answerStart; at < ids.length; at++) {
      const continent = continentOf.get(ids[at]);
      if (continent) {
        const block = a.blocks.find((b) => b.continent === continent);
        left = new Set(block?.countries.map(idOf) ?? []);
        members = membersOf.get(continent)!;
        continue;
      }
      if (!left.has(ids[at])) continue;
      const p = probs[at - answerStart];
      let onListed = 0, onUnlisted = 0, bestListed = 0, bestUnlisted = 0;
      for (const id of members) {
        if (left.has(id)) {
          onListed += p[id];
          bestListed = Math.max(bestListed, p[id]);
        } else if (!listed.has(id)) {
          onUnlisted += p[id];
          bestUnlisted = Math.max(bestUnlisted, p[id]);
        }
      }
      const s = sums.get(band(left.size))!;
      s.n++;
      s.listed += onListed;
      s.unlisted += onUnlisted;
      if (bestUnlisted > bestListed) s.first++;
      left.delete(ids[at]);
    }
  }
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return BANDS.filter((b) => sums.get(b)!.n > 0).map((b) => {
    const s = sums.get(b)!;
    return {
      remaining: b,
      positions: s.n,
      listed: round(s.listed / s.n),
      unlisted: round(s.unlisted / s.n),
      unlistedFirst: s.first,
    };
  });
}

/** Seed of {@link anyOrderAnswers}: no pretraining stream, not the probe's. */
export const LIST_MASS_SEED = 4242;

/**
 * `count` held-out `find-any-order` answers: lists of 10, 15, 20 and 30 countries in turn, one
 * listed continent asked for, its countries in a random order.
 */
export function anyOrderAnswers(count: number, seed = LIST_MASS_SEED): BlockAnswer[] {
  const tax = getTaxonomy("un");
  const continentOf = new Map(tax.countries.map((c) => [c.name, c.continent]));
  const rng = createRng(seed);
  const sizes = [10, 15, 20, 30];
  return Array.from({ length: count }, (_, i) => {
    const list = shuffle(tax.countries.map((c) => c.name), rng).slice(0, sizes[i % sizes.length]);
    const continent = continentOf.get(list[rng.int(list.length)])!;
    const countries = shuffle(list.filter((x) => continentOf.get(x) === continent), rng);
    return {
      messages: [{ role: "user", content: anyOrderPrompt(continent, list.join(", ")) }],
      answer: `${continent}: ${countries.join(", ")}`,
      list,
      blocks: [{ continent, countries }],
    };
  });
}

/** A tuning row of the cookbook's task: its prompt text, its sorted completion and their parts. */
export interface SortedRow {
  text: string;
  completion: string;
  countries: readonly string[];
  groups: readonly { continent: Continent; countries: readonly string[] }[];
}

/** Tuning rows as block answers: the prompt asked as the user, the sorted completion answered. */
export function sortedAnswers(rows: readonly SortedRow[]): BlockAnswer[] {
  return rows.map((row) => ({
    messages: [{ role: "user", content: row.text }],
    answer: row.completion,
    list: row.countries,
    blocks: row.groups,
  }));
}

/** One line per band: positions, mean mass on listed and unlisted countries, unlisted first. */
export function formatListMass(rows: readonly ListMass[]): string {
  return rows.map((r) =>
    `${r.remaining.padStart(4)} left · ${String(r.positions).padStart(4)} names · listed ${
      r.listed.toFixed(3)
    } · unlisted ${r.unlisted.toFixed(3)} · unlisted first ${r.unlistedFirst} (${
      Math.round((100 * r.unlistedFirst) / r.positions)
    }%)`
  ).join("\n");
}
