/**
 * Seeded fault injection and latency. Each API request (not the token endpoint, the object
 * store or `/health`) draws **one** uniform number from the fault stream, in arrival order, and
 * falls into one band: 429 (split evenly into `42900` / `42901` / `42902`), 500 `50000`,
 * 504 `50400`, dropped connection, stall, or none. The same seed and the same request order give
 * the same fault sequence, so a failing test can be replayed. Latency draws from its own stream:
 * uniform in `[meanMs − jitterMs, meanMs + jitterMs]`, clamped at 0.
 *
 * A **drop** answers `200` headers announcing a body that never comes, and the connection is
 * torn down: `fetch()` resolves but reading the body throws a `TypeError` (a network error).
 * A **stall** holds the request for `stallMs` (default 10 s) before serving it normally.
 *
 * @module
 */
import { createRng, type Rng } from "./random.ts";

/** Fault shares (0–1 each, summing to ≤ 1). */
export interface FaultOptions {
  seed?: number;
  rate429?: number;
  rate500?: number;
  rate504?: number;
  drop?: number;
  stall?: number;
  stallMs?: number;
}

/** Added latency per request. */
export interface LatencyOptions {
  meanMs: number;
  jitterMs?: number;
}

/** What happens to one request. */
export type FaultDecision =
  | { kind: "none" }
  | { kind: "429"; code: "42900" | "42901" | "42902" }
  | { kind: "500" }
  | { kind: "504" }
  | { kind: "drop" }
  | { kind: "stall"; ms: number };

/** Seeded fault and latency source. */
export class FaultInjector {
  #faults: Required<FaultOptions>;
  #faultRng: Rng;
  #latency?: LatencyOptions;
  #latencyRng: Rng;
  #active: boolean;

  constructor(faults: FaultOptions = {}, latency?: LatencyOptions, defaultSeed = 1) {
    const seed = faults.seed ?? defaultSeed;
    this.#faults = {
      seed,
      rate429: faults.rate429 ?? 0,
      rate500: faults.rate500 ?? 0,
      rate504: faults.rate504 ?? 0,
      drop: faults.drop ?? 0,
      stall: faults.stall ?? 0,
      stallMs: faults.stallMs ?? 10_000,
    };
    const f = this.#faults;
    const total = f.rate429 + f.rate500 + f.rate504 + f.drop + f.stall;
    for (const [k, v] of Object.entries(f)) {
      if (k !== "seed" && (!Number.isFinite(v) || v < 0)) {
        throw new RangeError(`fault option ${k} must be a finite number ≥ 0`);
      }
    }
    if (total > 1 + 1e-9) throw new RangeError("fault shares must sum to at most 1");
    this.#active = total > 0;
    this.#faultRng = createRng(seed);
    this.#latencyRng = createRng(seed ^ 0x1a7e9c);
    this.#latency = latency;
  }

  /** Draws the fate of the next request. */
  decide(): FaultDecision {
    if (!this.#active) return { kind: "none" };
    const f = this.#faults;
    let u = this.#faultRng.next();
    if (u < f.rate429) {
      const codes = ["42900", "42901", "42902"] as const;
      return { kind: "429", code: codes[Math.min(2, Math.floor((u / f.rate429) * 3))] };
    }
    u -= f.rate429;
    if (u < f.rate500) return { kind: "500" };
    u -= f.rate500;
    if (u < f.rate504) return { kind: "504" };
    u -= f.rate504;
    if (u < f.drop) return { kind: "drop" };
    u -= f.drop;
    if (u < f.stall) return { kind: "stall", ms: f.stallMs };
    return { kind: "none" };
  }

  /** Draws the added latency (ms) of the next request (0 when no latency is configured). */
  latencyMs(): number {
    const l = this.#latency;
    if (!l || (l.meanMs <= 0 && !l.jitterMs)) return 0;
    const j = l.jitterMs ?? 0;
    return Math.max(0, l.meanMs + j * (2 * this.#latencyRng.next() - 1));
  }
}
