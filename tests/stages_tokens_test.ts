import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { join } from "node:path";
import { openBackend } from "../lib/run/backend.ts";
import type { RunContext } from "../lib/run/folder.ts";
import { DEFAULT_RUN_CONFIG } from "../lib/run/schema.ts";
import {
  countTrainingTokens,
  readTokensFile,
  type TokensFile,
  tuningConfirmation,
} from "../lib/tuning/tokens.ts";
import { messageTokens } from "../lib/backends/emulator/tokenizer.ts";
import type { PriceTable } from "../lib/analysis/stats/cost.ts";

const ROWS = Array.from({ length: 30 }, (_, i) => ({
  text: `목록에서 나라를 대륙별로 분류해줘.\n\n프랑스, 일본 ${i}`,
  completion: `유럽: 프랑스\n아시아: 일본 ${"가".repeat(i)}`,
}));
const SETS = new Map([[10, ROWS.slice(0, 10)], [30, ROWS]]);
/** What the emulator's chat-tokenize API answers for a row: two messages. */
const rowTokens = (r: { text: string; completion: string }) =>
  messageTokens(r.text) + messageTokens(r.completion);

Deno.test("training tokens: counted through the emulator's tokenizer API, × epochs, written to tokens.json", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tokens-" });
  const backend = await openBackend({ choice: "emulator", stateDir: join(dir, "emulator") });
  try {
    const ctx = {
      runId: "r",
      dir,
      file: {
        runId: "r",
        created: "2026-12-01T00:00:00Z",
        config: { ...DEFAULT_RUN_CONFIG, models: ["HCX-003", "HCX-DASH-001"], sizes: [10, 30] },
        backend: backend.info,
        versions: {},
      },
    } as RunContext;
    const file = await countTrainingTokens(ctx, backend, SETS);
    assertEquals(file.exact, true);
    assertEquals([file.countedRows, file.distinctRows, file.epochs], [30, 30, 4]);
    const expect10 = ROWS.slice(0, 10).reduce((s, r) => s + rowTokens(r), 0);
    const expect30 = ROWS.reduce((s, r) => s + rowTokens(r), 0);
    assertEquals(file.training.map((t) => [t.model, t.size, t.datasetTokens, t.trainedTokens]), [
      ["HCX-003", 10, expect10, 4 * expect10],
      ["HCX-003", 30, expect30, 4 * expect30],
      ["HCX-DASH-001", 10, expect10, 4 * expect10],
      ["HCX-DASH-001", 30, expect30, 4 * expect30],
    ]);
    assertEquals(await readTokensFile(dir), file);

    // a sample of 6 distinct rows, the rest scaled by characters: close, and marked as estimated
    const sampled = await countTrainingTokens(ctx, backend, SETS, { sampleRows: 6 });
    assertEquals([sampled.exact, sampled.countedRows], [false, 6]);
    const est = sampled.training.find((t) => t.size === 30)!.datasetTokens;
    assert(Math.abs(est - expect30) / expect30 < 0.1, `${est} vs ${expect30}`);
  } finally {
    await backend.close();
    await Deno.remove(dir, { recursive: true });
  }
  assertEquals(await readTokensFile(await Deno.makeTempDir()), null);
});

const TOKENS: TokensFile = {
  tokenizer: "CLOVA Studio chat-tokenize API",
  exact: true,
  countedRows: 100,
  distinctRows: 100,
  epochs: 4,
  training: [
    { model: "A", size: 50, datasetTokens: 10000, epochs: 4, trainedTokens: 40000, tokenizer: "t" },
    {
      model: "A",
      size: 100,
      datasetTokens: 20000,
      epochs: 4,
      trainedTokens: 80000,
      tokenizer: "t",
    },
  ],
};

const prices = (training: number | null): PriceTable => ({
  currency: "KRW",
  perTokens: 1000,
  vat: "excluded",
  models: { A: { training, input: 1, output: 1, source: "s", checked: "2026-12-01" } },
});

Deno.test("the confirmation before paid tasks states the task count, tokens and estimated cost", () => {
  const base = { models: ["A"], sizes: [50, 100], prompts: 100, tokens: TOKENS };
  const known = tuningConfirmation({ ...base, tasks: 2, prices: prices(3) });
  assert(known.startsWith("This creates 2 tuning task(s) on CLOVA Studio (A × 2 sizes)"), known);
  assert(known.includes("120,000 training tokens (tuning-set tokens × 4 epochs"), known);
  // 120,000 / 1,000 × 3 KRW
  assert(known.includes("estimated tuning cost: 360 KRW (VAT excluded"), known);
  assert(known.endsWith("Continue?"));
  const unknown = tuningConfirmation({ ...base, tasks: 2, prices: prices(null) });
  assert(
    unknown.includes(
      "estimated tuning cost: unknown (no training price in data/prices.json for A)",
    ),
  );
  // a resumed run: only the task not yet created counts
  const resumed = tuningConfirmation({
    ...base,
    tasks: 1,
    pending: new Set(["A\u0000100"]),
    prices: prices(3),
  });
  assert(
    resumed.includes("This creates 1 tuning task(s)") && resumed.includes("80,000 training tokens"),
  );
  assert(resumed.includes("240 KRW"), resumed);
});
