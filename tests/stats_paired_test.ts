import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import {
  comparePaired,
  mcnemarExact,
  newcombePairedInterval,
  pairOutcomes,
} from "../lib/analysis/stats/paired.ts";

const close = (a: number, b: number, eps = 5e-5) => Math.abs(a - b) < eps;

Deno.test("exact McNemar: hand-computed binomial tails", () => {
  // b = 2, c = 0: 2 · P(X ≤ 0 | X ~ Bin(2, ½)) = 2 · 1/4
  assertEquals(mcnemarExact(2, 0), 0.5);
  // b = 0, c = 5: 2 · (1/2)^5 = 1/16
  assert(close(mcnemarExact(0, 5), 1 / 16, 1e-12), `${mcnemarExact(0, 5)}`);
  // b = 6, c = 16: 2 · Σ_{k≤6} C(22, k) / 2^22 = 2 · (1 + 22 + 231 + 1540 + 7315 + 26334 + 74613)
  // / 4194304 = 220112 / 4194304
  assert(close(mcnemarExact(6, 16), 220112 / 4194304, 1e-9), `${mcnemarExact(6, 16)}`);
  // symmetric, capped at 1, 1 without discordant pairs
  assertEquals(mcnemarExact(16, 6), mcnemarExact(6, 16));
  assertEquals(mcnemarExact(3, 3), 1);
  assertEquals(mcnemarExact(0, 0), 1);
});

Deno.test("Newcombe paired interval: hand-computed 2/100 vs 0/100", () => {
  // a = 0, b = 2, c = 0, d = 98: p1 = 0.02, p2 = 0, a margin (a + c) is empty → φ = 0.
  // Wilson(2, 100) = [0.005502, 0.070012]; Wilson(0, 100) = [0, z²/(n + z²)] = [0, 0.036994].
  // L = 0.02 − √((0.02 − 0.005502)² + 0.036994²) = 0.02 − 0.039733 = −0.019733
  // U = 0.02 + √(0² + (0.070012 − 0.02)²) = 0.070012
  const [low, high] = newcombePairedInterval({ both: 0, onlyFirst: 2, onlySecond: 0, neither: 98 });
  assert(close(low, -0.019733), `low ${low}`);
  assert(close(high, 0.070012), `high ${high}`);
});

Deno.test("Newcombe paired interval: the published example (Fagerland et al., ch. 8)", () => {
  // Cavo et al. 2012 as tabled in Fagerland, Lydersen & Laake: estimate −0.0621,
  // square-and-add 95% CI −0.1186 to −0.0046.
  const c = comparePaired({ both: 59, onlyFirst: 6, onlySecond: 16, neither: 80 });
  assertEquals(c.n, 161);
  assert(close(c.difference, -0.0621, 5e-5), `${c.difference}`);
  assert(close(c.low, -0.1186, 5e-5), `${c.low}`);
  assert(close(c.high, -0.0046, 5e-5), `${c.high}`);
  assert(close(c.pValue, 220112 / 4194304, 1e-9));
});

Deno.test("Newcombe paired interval: φ correction branches and bounds", () => {
  // Strong positive association: AD − BC = 40·40 − 5·5 = 1575 > N/2 = 45 → φ > 0 narrows it
  const narrow = newcombePairedInterval({ both: 40, onlyFirst: 5, onlySecond: 5, neither: 40 });
  // Same margins, no association (AD − BC ≤ N/2 → φ = 0)
  const wide = newcombePairedInterval({ both: 22, onlyFirst: 23, onlySecond: 23, neither: 22 });
  assert(narrow[1] - narrow[0] < wide[1] - wide[0], `${narrow} vs ${wide}`);
  assert(close(narrow[0], -narrow[1], 1e-12), "symmetric table, symmetric interval");
  // Extreme tables stay inside [−1, 1]
  const all = newcombePairedInterval({ both: 0, onlyFirst: 10, onlySecond: 0, neither: 0 });
  assert(all[0] >= -1 && all[1] <= 1 && all[1] === 1, `${all}`);
  assertEquals(newcombePairedInterval({ both: 0, onlyFirst: 0, onlySecond: 0, neither: 0 }), [
    NaN,
    NaN,
  ]);
});

Deno.test("pairOutcomes pairs by prompt and repeat and drops unmatched answers", () => {
  const first = [
    { promptId: "e1", repeat: 0, hasError: true },
    { promptId: "e2", repeat: 0, hasError: true },
    { promptId: "e3", repeat: 0, hasError: false },
    { promptId: "e4", repeat: 0, hasError: false },
    { promptId: "e5", repeat: 0, hasError: true }, // no partner
  ];
  const second = [
    { promptId: "e1", repeat: 0, hasError: true },
    { promptId: "e2", repeat: 0, hasError: false },
    { promptId: "e3", repeat: 0, hasError: true },
    { promptId: "e4", repeat: 0, hasError: false },
    { promptId: "e4", repeat: 1, hasError: true }, // no partner
  ];
  assertEquals(pairOutcomes(first, second), { both: 1, onlyFirst: 1, onlySecond: 1, neither: 1 });
});
