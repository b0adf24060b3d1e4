/**
 * Seeded randomness for the local model: uniform and normal streams (pure-rand xoroshiro128+),
 * so initial weights, data order and sampling replay exactly from a seed.
 *
 * @module
 */
import { xoroshiro128plus, xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";

/** A seeded stream of numbers. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** The generator's state: {@link createRng} given it continues the stream exactly here. */
  state(): number[];
}

/** murmur3's 32-bit finaliser: nearby seeds give unrelated states. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) | 0;
}

/**
 * A replayable stream from a 32-bit seed, or from a state an earlier stream's `state()` returned
 * (it continues that stream). Nearby seeds start alike; scramble them with {@link mix32} where
 * first draws must differ (sampling).
 */
export function createRng(seed: number | readonly number[]): Rng {
  const gen = typeof seed === "number"
    ? xoroshiro128plus(seed | 0)
    : xoroshiro128plusFromState(seed);
  const next = () => uniformFloat64(gen);
  return {
    next,
    int: (n) => Math.min(n - 1, Math.floor(next() * n)),
    normal: () => {
      const u = 1 - next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    state: () => [...gen.getState()],
  };
}

/** Fisher–Yates shuffle in place. */
export function shuffle<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
