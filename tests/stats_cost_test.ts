import { deepStrictEqual as assertEquals, ok as assert, rejects, throws } from "node:assert";
import { join } from "node:path";
import {
  datasetTokensBySize,
  estimateCost,
  evaluationTokens,
  formatCost,
  loadPriceTable,
  parsePriceTable,
  type PriceTable,
  PriceTableError,
  totalCost,
  trainingTokens,
} from "../lib/tuning/cost.ts";
import { countTokens } from "../lib/backends/tokenizer.ts";

const PRICES: PriceTable = {
  currency: "KRW",
  perTokens: 1000,
  vat: "excluded",
  models: {
    A: {
      training: 4,
      input: 5,
      output: 10,
      tunedInput: 7.5,
      tunedOutput: null,
      source: "test",
      checked: "2026-12-01",
    },
    B: { training: null, input: 1, output: 1, source: "test", checked: "2026-12-01" },
  },
};

Deno.test("the committed price table loads and names its source and date per model", async () => {
  const table = await loadPriceTable();
  assertEquals(table.perTokens, 1000);
  for (const model of ["HCX-003", "HCX-DASH-001"]) {
    const p = table.models[model];
    assert(p, `${model} in data/prices.json`);
    assert(/^https:\/\//.test(p.source), p.source);
    assert(/^\d{4}-\d{2}-\d{2}$/.test(p.checked));
  }
});

Deno.test("a bad price table is a clear error naming the file and field", async () => {
  throws(
    () =>
      parsePriceTable({ ...PRICES, models: { A: { ...PRICES.models.A, training: -1 } } }, "p.json"),
    /p\.json: models\.A\.training:/,
  );
  throws(
    () =>
      parsePriceTable(
        { ...PRICES, models: { A: { ...PRICES.models.A, checked: "yesterday" } } },
        "p.json",
      ),
    /models\.A\.checked: expected a date/,
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "bad.json"), "{ nope");
    await rejects(loadPriceTable(join(dir, "bad.json")), (e) => {
      assert(e instanceof PriceTableError && /bad\.json: not JSON/.test(e.message), String(e));
      return true;
    });
    await rejects(loadPriceTable(join(dir, "absent.json")), /absent\.json: cannot read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("training tokens: distinct rows of nested sets counted once, × epochs", async () => {
  const r = (i: number) => ({ text: `질문 ${i}`, completion: `답 ${i} 입니다` });
  const sets = new Map([[2, [r(1), r(2)]], [3, [r(1), r(2), r(3)]]]);
  let counted = 0;
  const tokens = await datasetTokensBySize(sets, (rows) => {
    counted += rows.length;
    return rows.map((x) => countTokens(x.text) + countTokens(x.completion));
  });
  assertEquals(counted, 3);
  // "질문 1" = 질, 문, 1 → 3 tokens; "답 1 입니다" = 답, 1, 입, 니, 다 → 5; 8 per row
  assertEquals([...tokens], [[2, 16], [3, 24]]);
  const t = trainingTokens(["A", "B"], tokens, 4, "emulator tokenizer v1");
  assertEquals(t.map((x) => [x.model, x.size, x.trainedTokens]), [
    ["A", 2, 64],
    ["A", 3, 96],
    ["B", 2, 64],
    ["B", 3, 96],
  ]);
  await rejects(datasetTokensBySize(sets, () => [1]), /1 counts for 3 rows/);
});

Deno.test("cost estimate: hand-computed, tuned prices when set, unknown prices never guessed", () => {
  const evaluation = evaluationTokens([
    { model: "A", size: 0, usage: { inputTokens: 600, outputTokens: 400 } },
    { model: "A", size: 0, usage: { inputTokens: 400, outputTokens: 100 } },
    { model: "A", size: 50, usage: { inputTokens: 2000, outputTokens: 1000 } },
    { model: "A", size: 50, usage: {} }, // no usage reported
    { model: "B", size: 50, usage: { inputTokens: 1000, outputTokens: 1000 } },
  ]);
  assertEquals(evaluation.map((e) => [e.model, e.size, e.answers, e.withUsage, e.inputTokens]), [
    ["A", 0, 2, 2, 1000],
    ["A", 50, 2, 1, 2000],
    ["B", 50, 1, 1, 1000],
  ]);
  const training = trainingTokens(["A", "B"], new Map([[50, 5000]]), 4, "t");
  const rows = estimateCost(PRICES, { training, evaluation });
  const at = (model: string, size: number) =>
    rows.find((r) => r.model === model && r.size === size)!;
  // A base: 1000/1000·5 + 500/1000·10 = 10
  assertEquals([at("A", 0).trainingCost, at("A", 0).evaluationCost, at("A", 0).totalCost], [
    0,
    10,
    10,
  ]);
  // A@50: training 20,000/1000·4 = 80; input at the tuned price 2000/1000·7.5 = 15; output has
  // no tuned price, so the base price: 1000/1000·10 = 10 → 105
  assertEquals([at("A", 50).trainingCost, at("A", 50).evaluationCost, at("A", 50).totalCost], [
    80,
    25,
    105,
  ]);
  // B@50: no training price → unknown total, and the reason
  assertEquals(at("B", 50).trainingCost, null);
  assertEquals(at("B", 50).evaluationCost, 2);
  assertEquals(at("B", 50).totalCost, null);
  assertEquals(at("B", 50).missing, ["no training price for B in data/prices.json"]);
  assertEquals(totalCost(rows), null);
  assertEquals(totalCost(rows.filter((r) => r.model === "A")), 115);
  // a model absent from the table
  const c = estimateCost(PRICES, {
    evaluation: evaluationTokens([{ model: "Z", size: 0, usage: { inputTokens: 5 } }]),
  });
  assertEquals(c[0].missing, ["no input price for Z in data/prices.json"]);
  assertEquals(formatCost(105, "KRW"), "105 KRW");
  assertEquals(formatCost(1234.567, "KRW"), "1,235 KRW");
  assertEquals(formatCost(null, "KRW"), "unknown");
});
