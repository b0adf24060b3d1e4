import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import {
  independentDiscordance,
  promptsForPaired,
  promptsForUnpaired,
} from "../lib/analysis/stats/planning.ts";
import { promptMix } from "../lib/analysis/stats/promptMix.ts";
import { parseTarget } from "../lib/analysis/stats/target.ts";

Deno.test("unpaired prompts: hand-computed Fleiss formula", () => {
  // p1 = .5, p2 = .75, 90% power: p̄ = .625; 1.959964·√(2·.625·.375) = 1.341892;
  // 1.281552·√(.25 + .1875) = 0.847667; (2.189559 / .25)² = 76.71 → 77 (R's power.prop.test: 76.7)
  assertEquals(promptsForUnpaired(0.5, 0.75, { power: 0.9 }), 77);
  // 80% power: 0.841621·0.661438 = 0.556684; (1.898576 / .25)² = 57.67 → 58
  assertEquals(promptsForUnpaired(0.5, 0.75), 58);
  // 2% vs 0%: 1.959964·√(2·.01·.99) = 0.275791; 0.841621·√(.02·.98) = 0.117827;
  // (0.393618 / .02)² = 387.3 → 388 per arm
  assertEquals(promptsForUnpaired(0.02, 0), 388);
  assertEquals(promptsForUnpaired(0, 0.02), 388);
  assertEquals(promptsForUnpaired(0.3, 0.3), Infinity);
});

Deno.test("paired prompts: hand-computed Connor formula", () => {
  // p10 = .2, p01 = .1: ψ = .3, δ = .1; 1.959964·√.3 = 1.073516; 0.841621·√(.3 − .01) = 0.453228;
  // (1.526744 / .1)² = 233.09 → 234
  assertEquals(promptsForPaired({ onlyFirst: 0.2, onlySecond: 0.1 }), 234);
  // only-first discordance of 2%, none the other way (nested errors): ψ = δ = .02;
  // 1.959964·√.02 = 0.277181; 0.841621·√(.02 − .0004) = 0.117826; (0.395007/.02)² = 390.08 → 391
  assertEquals(promptsForPaired({ onlyFirst: 0.02, onlySecond: 0 }), 391);
  assertEquals(promptsForPaired({ onlyFirst: 0.05, onlySecond: 0.05 }), Infinity);
  // pairing helps when errors are correlated: fewer pairs than prompts per unpaired arm
  const p1 = 0.37, p2 = 0.2;
  const paired = promptsForPaired({ onlyFirst: 0.19, onlySecond: 0.02 });
  assert(paired < promptsForUnpaired(p1, p2), `${paired}`);
  // independence is the planning default when no pairs exist yet
  const ind = independentDiscordance(p1, p2);
  assert(
    Math.abs(ind.onlyFirst - 0.37 * 0.8) < 1e-12 && Math.abs(ind.onlySecond - 0.2 * 0.63) < 1e-12,
  );
  throws(() => promptsForPaired({ onlyFirst: 0.7, onlySecond: 0.6 }), /sum to/);
  throws(() => promptsForUnpaired(1.2, 0), /probability/);
  throws(() => promptsForUnpaired(0.2, 0.1, { power: 1 }), /power/);
});

Deno.test("promptMix: multiples of the 20 cells split exactly, others by largest remainder", () => {
  const exact = promptMix(100);
  assertEquals(exact.cells, 20);
  assertEquals(exact.exact, true);
  assertEquals(exact.perCell, [5, 5]);
  assert(exact.note.includes("exactly"), exact.note);
  const rest = promptMix(130);
  assertEquals(rest.exact, false);
  assertEquals(rest.perCell, [6, 7]);
  assert(rest.note.includes("largest remainder"), rest.note);
  assertEquals(promptMix(20).perCell, [1, 1]);
  assertEquals(promptMix(10).perCell, [0, 1]);
  throws(() => promptMix(0), /positive whole number/);
  throws(() => promptMix(12.5), /positive whole number/);
});

Deno.test("--target: percentages and fractions, clear errors otherwise", () => {
  assertEquals(parseTarget("2%"), 0.02);
  assertEquals(parseTarget("2"), 0.02);
  assertEquals(parseTarget("0.05"), 0.05);
  assertEquals(parseTarget(" 12.5 % "), 0.125);
  for (const bad of ["0", "100%", "abc", "-1", "150"]) {
    assert(typeof parseTarget(bad) === "string", bad);
  }
});
