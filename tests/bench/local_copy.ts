/**
 * The copy probe (`lib/backends/local/probe.ts`) of the committed local models, or of GGUF files given
 * on the command line (run by hand; seconds per model):
 *
 *   deno run -A tests/bench/local_copy.ts [--lists N] [--sizes 10,15,20,30] [FILE.gguf …]
 *
 * prints, per model, the share of listed countries reproduced when copying a list, labelled
 * with their right continent, and named when filtering one continent, with the names written
 * that were not asked for, per answer.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  loadBaseModel,
  loadGgufModel,
  LOCAL_MODEL_NAMES,
} from "../../lib/backends/local/models.ts";
import { probeCopy } from "../../lib/backends/local/probe.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { lists: { type: "string", default: "8" }, sizes: { type: "string" } },
  allowPositionals: true,
});
const targets = positionals.length ? positionals : [...LOCAL_MODEL_NAMES];
for (const t of targets) {
  const model = t.endsWith(".gguf")
    ? loadGgufModel(t)
    : await loadBaseModel(t as typeof LOCAL_MODEL_NAMES[number]);
  const started = performance.now();
  const sizes = values.sizes?.split(",").map(Number);
  const p = await probeCopy(model, { lists: Number(values.lists), sizes });
  const s = (k: "copy" | "label" | "filter") =>
    `${k} ${(p[k].recall * 100).toFixed(1)}% (+${p[k].extraPerAnswer} extra)`;
  console.log(
    `${t}: ${s("copy")} · ${s("label")} · ${s("filter")} · ${p.lists} lists each · ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`,
  );
  model.weights.free();
}
