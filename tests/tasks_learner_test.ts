/** The reference learner on tasks other than countries: any taxonomy, and labels learned whole. */
import nodeAssert from "node:assert/strict";
import { answer, train } from "../lib/backends/emulator/learner.ts";
import { generateTaskTrainingSets, loadTaxonomyTask, scoreTaskAnswer } from "../lib/tasks/mod.ts";

const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);

const opts = { temperature: 0, seed: 1, emulatorSeed: 1 };

Deno.test("learner: a taxonomy's own groups are the candidates, not the six continents", async () => {
  const elements = await loadTaxonomyTask("elements");
  const rows = generateTaskTrainingSets(elements, [400], { seed: 2 }).get(400)!;
  const run = train(rows.map((r) => r.completion), { epochs: 4, batchSize: 8 });
  assertEquals([...run.model.continents].sort(), [...elements.taxonomy.groups].sort());
  assertEquals(run.model.prefix, elements.templates.completion.trim());
  // Tuned on 400 rows, it sorts a list of elements it has seen into their own groups.
  const asked = ["Iron", "Neon", "Sodium", "Chlorine", "Uranium", "Cerium"];
  const text = answer(run.model, elements.templates.prompt + asked.join(", "), opts);
  const score = scoreTaskAnswer(elements, asked, text);
  assertEquals([score.missing, score.misclassified, score.extended, score.formatError], [
    0,
    0,
    0,
    false,
  ]);
});

Deno.test("learner: completions with no block are learned whole, prompt → completion", () => {
  const texts = ["배송이 빨라요", "포장이 엉망이에요", "정말 최고예요", "다시는 안 사요"];
  const labels = ["긍정", "부정", "긍정", "부정"];
  const run = train(labels, { epochs: 1, batchSize: 2, texts });
  assertEquals(run.model.whole, true);
  assertEquals(run.model.continents, ["긍정", "부정"]);
  assertEquals(run.model.prefix, null);
  assertEquals(answer(run.model, "포장이 엉망이에요", opts), "부정");
  // An unseen prompt takes the label of the training prompt it shares most bigrams with.
  assertEquals(answer(run.model, "배송이 빨라서 좋아요", opts), "긍정");
  // Without the texts, the old behaviour: nothing to count, the six continents as candidates.
  assertEquals(train(labels, { epochs: 1, batchSize: 2 }).model.continents.length, 6);
});
