/**
 * The row sampler (`lib/sampling/sampler.ts`) runs its stream itself (xoroshiro128+ and
 * `uniformInt` restated): its draws must be pure-rand's, for every range it may ask, small ones and
 * those above 2^15 values (a large group of a taxonomy task).
 */
import nodeAssert from "node:assert/strict";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { drawKey, numberItems, type Rng, RowSampler } from "../lib/sampling/mod.ts";

/**
 * The rule for one group and one block, with pure-rand's own `uniformInt`: the group is picked
 * (`randint(0, 0)`), `n` items are sampled from the pool (a partial Fisher–Yates pass), and the
 * text's order is a full shuffle of them.
 */
function referenceRow(rng: Rng, pool: number[], n: number): { grouped: number[]; asked: number[] } {
  const int = (from: number, to: number) => uniformInt(rng as never, from, to);
  int(0, 0);
  for (let i = 0; i < n; i++) {
    const j = int(i, pool.length - 1);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  const grouped = pool.slice(0, n);
  const asked = grouped.slice();
  for (let i = 0; i < n; i++) {
    const j = int(i, n - 1);
    [asked[i], asked[j]] = [asked[j], asked[i]];
  }
  return { grouped, asked };
}

for (const size of [2, 3, 193, 32_768, 32_769, 40_000]) {
  Deno.test(`row sampler: pure-rand's draws from a group of ${size} items`, () => {
    const items = numberItems([Array.from({ length: size }, (_, i) => `item ${i}`)]);
    const cell = { countryCount: 2, continentCount: 1, weight: 1 };
    for (const seed of [1, 7, 2024, -5]) {
      const stream = xoroshiro128plus(seed) as Rng;
      const sampler = new RowSampler(stream.clone(), items);
      const reference = stream.clone();
      const pool = Array.from({ length: size }, (_, i) => i);
      for (let row = 0; row < 50; row++) {
        nodeAssert.equal(sampler.key(), drawKey(reference), `seed ${seed}, row ${row}: key`);
        sampler.draw(cell);
        const expected = referenceRow(reference, pool, 2);
        nodeAssert.deepStrictEqual(
          {
            grouped: [...sampler.grouped.subarray(0, 2)],
            asked: [...sampler.asked.subarray(0, 2)],
          },
          expected,
          `seed ${seed}, row ${row}`,
        );
      }
    }
  });
}
