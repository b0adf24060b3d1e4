/**
 * The copy probe (`lib/backends/local/probe.ts`) of the committed local models, or of GGUF files or
 * pretraining checkpoints given on the command line (run by hand; seconds per model):
 *
 *   deno run -A tests/bench/local_copy.ts [--lists N] [--sizes 10,15,20,30] [--loss] [FILE.gguf|FILE.checkpoint …]
 *
 * prints, per model, the share of listed countries reproduced when copying a list, labelled
 * with their right continent, named when filtering one continent (named before the list, and
 * after it), named in one block under the first country's continent, and named in one block in
 * another order, with the names written that were not asked for, per answer; with `--loss`, also
 * the held-out loss of each corpus kind (`lib/backends/local/kindLoss.ts`). A checkpoint's
 * weights are probed with the committed model of the same name for its shape and vocabulary.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { LOCAL_MODEL_NAMES } from "../../lib/backends/local/models.ts";
import { loadLocalWeights } from "./local_weights.ts";
import { probeCopy } from "../../lib/backends/local/probe.ts";
import { formatKindLoss, lossByKind } from "../../lib/backends/local/kindLoss.ts";
import { Trainer } from "../../lib/backends/local/train.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    lists: { type: "string", default: "8" },
    sizes: { type: "string" },
    loss: { type: "boolean" },
  },
  allowPositionals: true,
});
const targets = positionals.length ? positionals : [...LOCAL_MODEL_NAMES];
for (const t of targets) {
  const model = await loadLocalWeights(t);
  const started = performance.now();
  const sizes = values.sizes?.split(",").map(Number);
  const p = await probeCopy(model, { lists: Number(values.lists), sizes });
  const tasks = ["copy", "label", "filter", "filterAfter", "block", "anyOrder"] as const;
  const figures = tasks.map((k) =>
    `${k} ${(p[k].recall * 100).toFixed(1)}% (+${p[k].extraPerAnswer} extra)`
  );
  console.log(
    `${t}: ${figures.join(" · ")} · ${p.lists} lists each · ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`,
  );
  if (values.loss) {
    const trainer = new Trainer(model.config, model.weights, undefined);
    const byKind = await lossByKind((b) => trainer.evaluate(b), model.tokenizer, {
      context: model.config.context,
    });
    console.log(`${t}: held-out loss by kind ${formatKindLoss(byKind)}`);
    trainer.free();
  }
  model.weights.free();
}
