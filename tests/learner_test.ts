/** The reference learner's training (`lib/backends/emulator/learner.ts`): its counts and its step losses. */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { train } from "../lib/backends/emulator/learner.ts";

const round = (x: number) => Math.round(x * 1e6) / 1e6;

Deno.test("learner: each step's loss is predicted from the counts before it, epoch after epoch", () => {
  const run = train(["목록\n\n아시아: 일본", "목록\n\n아시아: 일본"], { epochs: 2, batchSize: 1 });
  // K = 6 continents; -ln((n(pair) + 1) / (N(country) + K)) with n = N = 0, 1, 2, 3.
  assertEquals(run.stepLoss, [1 / 6, 2 / 7, 3 / 8, 4 / 9].map((p) => round(-Math.log(p))));
  assertEquals(run.model, {
    prefix: "목록",
    continents: ["아시아", "유럽", "북아메리카", "남아메리카", "아프리카", "오세아니아"],
    counts: { "일본": { "아시아": 4 } },
  });
  assertEquals([run.stepsPerEpoch, run.pairsPerEpoch], [2, 2]);
});

Deno.test("learner: a batch is predicted as a whole, new labels widen K, counts keep first-seen order", () => {
  const rows = ["유럽: 독일, 프랑스\n\n신대륙: 독일", "아시아: 일본\n\n유럽: 독일", "아무 말"];
  const run = train(rows, { epochs: 1, batchSize: 2 });
  // K = 7 (신대륙 added). Step 1 (rows 1–2): five pairs, all unseen: -ln(1/7) each.
  // Step 2 (row 3): no pairs, loss 0.
  assertEquals(run.stepLoss, [round(-Math.log(1 / 7)), 0]);
  assertEquals(Object.keys(run.model.counts), ["독일", "프랑스", "일본"]);
  assertEquals(run.model.counts["독일"], { "유럽": 2, "신대륙": 1 });
  assertEquals(run.model.continents.at(-1), "신대륙");
  assertEquals(run.model.prefix, "아무 말");
  assertEquals(train(rows, { epochs: 0, batchSize: 2 }).model.counts, {});
});
