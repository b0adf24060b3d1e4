/**
 * Dataset generator benchmarks: 10,000 training rows (the cookbook's largest size), alone and
 * with the tuning CSV written. Target: at least 10× faster than the cookbook's Python generator
 * (about 0.9 s for 10,000 rows on the machine the issue was written on).
 *
 * Run: `deno bench -A tests/bench/dataset_bench.ts`
 */
import {
  generateEvalSet,
  generateTrainingSet,
  tuningCsv,
  writeTuningCsv,
} from "../../lib/dataset.ts";
import { getTaxonomy } from "../../lib/countries.ts";

const taxonomy = getTaxonomy("un");
const dir = await Deno.makeTempDir({ prefix: "dataset_bench_" });
let seed = 0;

Deno.bench("generate 10,000 training rows", { group: "train10k", baseline: true }, () => {
  generateTrainingSet({ rows: 10_000, seed: seed++, taxonomy });
});

Deno.bench("generate 10,000 rows + write tuning CSV", { group: "train10k" }, async () => {
  const rows = generateTrainingSet({ rows: 10_000, seed: seed++, taxonomy });
  await writeTuningCsv(`${dir}/train.csv`, rows);
});

const fixed = generateTrainingSet({ rows: 10_000, seed: 7, taxonomy });
Deno.bench("tuning CSV text for 10,000 rows (csv-stringify)", () => {
  tuningCsv(fixed);
});

Deno.bench("evaluation set (100 prompts, excluding 10,000 training rows)", () => {
  generateEvalSet({ seed: seed++, taxonomy, exclude: fixed.map((r) => r.countries) });
});
