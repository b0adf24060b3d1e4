/**
 * Seeded randomness for the emulator: a replayable stream (pure-rand xoroshiro128+) and a stable
 * string hash (FNV-1a, 32 bit) for keyed, order-independent choices.
 *
 * @module
 */
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { hash32 } from "../../io/hash.ts";

/** A seeded stream of uniform numbers in [0, 1). */
export interface Rng {
  /** Next uniform number in [0, 1). */
  next(): number;
}

/** Creates a replayable uniform stream from a 32-bit seed. */
export function createRng(seed: number): Rng {
  const gen = xoroshiro128plus(seed | 0);
  return { next: () => uniformFloat64(gen) };
}

/** A seeded stream keyed by several parts (e.g. emulator seed, request seed, prompt). */
export function keyedRng(...parts: (string | number)[]): Rng {
  return createRng(hash32(parts.join("\u0001")));
}
