/**
 * Where a local model's probability goes when it may name any of several listed countries
 * (`lib/backends/local/listMass.ts`), for a committed model, a GGUF file or a pretraining
 * checkpoint, optionally with a tuned adapter (run by hand; seconds):
 *
 *   deno run -A tests/bench/local_list_mass.ts [--answers N] [--sorted] [--adapter FILE.gguf] MODEL
 *
 * Without `--sorted`: held-out `find-any-order` answers (the pretraining format). With `--sorted`:
 * held-out tuning rows in the cookbook's format (its sorted completions, blocks in sampled order),
 * as a tuned model (`--adapter`, e.g. a run folder's `emulator-state/adapters/<task>.gguf`) or
 * the untuned base reads them. Prints, by how many listed countries of the block were left, the
 * mean probability on them and on unlisted countries of the block's continent.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadLocalWeights } from "./local_weights.ts";
import {
  anyOrderAnswers,
  type BlockAnswer,
  formatListMass,
  LIST_MASS_SEED,
  listMass,
  sortedAnswers,
} from "../../lib/backends/local/listMass.ts";
import { teacherForcedProbabilities } from "../../lib/backends/local/teacherForced.ts";
import { loadAdapter } from "../../lib/backends/local/tune.ts";
import { generateTrainingSet } from "../../lib/datasets/mod.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    answers: { type: "string", default: "96" },
    sorted: { type: "boolean" },
    adapter: { type: "string" },
  },
  allowPositionals: true,
});
const target = positionals[0] ?? "local-1m";
const model = await loadLocalWeights(target);
const lora = values.adapter ? loadAdapter(values.adapter, model) : undefined;
const count = Number(values.answers);
const answers: BlockAnswer[] = values.sorted
  ? sortedAnswers(generateTrainingSet({ rows: count, seed: LIST_MASS_SEED }))
  : anyOrderAnswers(count);
const started = performance.now();
const rows = await listMass(
  answers,
  model.tokenizer,
  (e) => teacherForcedProbabilities(model, e, lora),
);
console.log(
  `${target}${values.adapter ? ` + ${values.adapter}` : ""}, ${count} ${
    values.sorted ? "sorted answers (tuning rows)" : "find-any-order answers"
  }, ${((performance.now() - started) / 1000).toFixed(1)} s:`,
);
console.log(formatListMass(rows));
