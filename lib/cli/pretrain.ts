/**
 * `deno task pretrain`: pretrains the local base models from scratch on the generated corpus and
 * writes `data/local-models/<name>.gguf` with its manifest `<name>.json` (see
 * `lib/local/pretrain.ts`). Seeded: the same seed, steps and thread count give the same corpus,
 * data order and initial weights.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  LOCAL_MODEL_NAMES,
  LOCAL_MODELS,
  type LocalModelName,
  WEIGHTS_DIR,
} from "../local/models.ts";
import { pretrain } from "../local/pretrain.ts";
import { COPY_HEAVY_MIX, CORPUS_MIX } from "../local/corpus.ts";

const USAGE = `usage: deno task pretrain [options]

  --model NAME      local-1m | local-250k | all (default all)
  --seed N          seed of the corpus, data order and initial weights (default 2024)
  --steps N         optimizer steps (default: each model's own, see lib/local/models.ts)
  --out DIR         output folder (default data/local-models)
  --init FILE       continue from these weights (same vocabulary and shape)
  --mix NAME        corpus mix: default | copy-heavy (see lib/local/corpus.ts)
  --quiet           no progress lines`;

function fail(message: string): number {
  console.error(`${message}\n\n${USAGE}`);
  return 2;
}

/** Parses flags and pretrains; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        model: { type: "string", default: "all" },
        seed: { type: "string", default: "2024" },
        steps: { type: "string" },
        out: { type: "string", default: WEIGHTS_DIR },
        quiet: { type: "boolean", default: false },
        init: { type: "string" },
        mix: { type: "string", default: "default" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    return fail((e as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const names: LocalModelName[] = values.model === "all"
    ? [...LOCAL_MODEL_NAMES]
    : (LOCAL_MODEL_NAMES as readonly string[]).includes(values.model)
    ? [values.model as LocalModelName]
    : [];
  if (!names.length) return fail(`--model must be ${LOCAL_MODEL_NAMES.join(", ")} or all`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) return fail("--seed takes a whole number");
  const steps = values.steps === undefined ? undefined : Number(values.steps);
  if (steps !== undefined && !(Number.isInteger(steps) && steps > 0)) {
    return fail("--steps takes a positive whole number");
  }
  if (values.mix !== "default" && values.mix !== "copy-heavy") {
    return fail("--mix must be default or copy-heavy");
  }
  if (values.init && names.length !== 1) return fail("--init needs one --model");
  const mix = values.mix === "copy-heavy" ? COPY_HEAVY_MIX : CORPUS_MIX;
  for (const name of names) {
    const started = performance.now();
    let last = 0;
    const m = await pretrain({
      spec: LOCAL_MODELS[name],
      seed,
      steps,
      outDir: values.out,
      init: values.init,
      mix,
      onStep: ({ step, steps, loss, tokens, ms }) => {
        const now = performance.now();
        if (values.quiet || (now - last < 5000 && step !== steps)) return;
        last = now;
        const elapsed = (now - started) / 1000;
        const eta = (elapsed / step) * (steps - step);
        console.error(
          `${name}: step ${step}/${steps} · loss ${loss.toFixed(3)} · ` +
            `${Math.round(tokens / (ms / 1000))} tok/s · ${Math.round(elapsed)} s elapsed, ` +
            `ETA ${Math.round(eta)} s`,
        );
      },
    });
    console.log(
      `${name}: ${m.parameters} parameters, held-out loss ${m.heldOutLoss}, ${m.seconds} s → ` +
        `${m.file} (sha256 ${m.sha256.slice(0, 12)}…)`,
    );
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
