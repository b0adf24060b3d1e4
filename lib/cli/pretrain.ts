/**
 * `deno task pretrain`: pretrains the local base models from scratch on the generated corpus and
 * writes `data/local-models/<name>.gguf` with its manifest `<name>.json` (see
 * `lib/backends/local/pretrain.ts`). Seeded: the same seed, steps and thread count give the same corpus,
 * data order and initial weights.
 *
 * @module
 */
import {
  checkInput,
  choiceFlag,
  intFlag,
  numberFlag,
  parseFlags,
  printUsage,
  runCli,
  UsageError,
} from "./args.ts";
import {
  COPY_HEAVY_MIX,
  CORPUS_MIX,
  type Curriculum,
  LOCAL_MODEL_NAMES,
  LOCAL_MODELS,
  type LocalModelName,
  pretrain,
  WEIGHTS_DIR,
} from "../backends/local/mod.ts";

const USAGE = `usage: deno task pretrain [options]

  --model NAME      local-1m | local-250k | all (default all)
  --seed N          seed of the corpus, data order and initial weights (default 2024)
  --steps N         optimizer steps (default: each model's own, see lib/backends/local/models.ts)
  --out DIR         output folder (default data/local-models)
  --init FILE       continue from these weights (same vocabulary and shape)
  --mix NAME        corpus mix: default | copy-heavy (see lib/backends/local/corpus.ts)
  --lr X            peak learning rate (default: each model's own)
  --curriculum S,F  lists of up to S items at first, up to 30 from share F of the steps
                    (default 6,0.5; 30,0 for every length from the start)
  --probe-every N   run the copy probe every N steps too (default 0: at the end only)
  --quiet           no progress lines`;

const OPTIONS = {
  model: { type: "string" },
  seed: { type: "string" },
  steps: { type: "string" },
  out: { type: "string" },
  quiet: { type: "boolean" },
  init: { type: "string" },
  mix: { type: "string" },
  lr: { type: "string" },
  curriculum: { type: "string" },
  "probe-every": { type: "string" },
} as const;

/** Parses flags and pretrains; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const values = parseFlags(args, OPTIONS);
  if (values.help) return printUsage(USAGE);
  const model = choiceFlag("model", values.model, [...LOCAL_MODEL_NAMES, "all"]) ?? "all";
  const names: LocalModelName[] = model === "all" ? [...LOCAL_MODEL_NAMES] : [model];
  const seed = intFlag("seed", values.seed ?? "2024", { min: -(2 ** 31), max: 2 ** 32 - 1 })!;
  const steps = intFlag("steps", values.steps);
  const mixName = choiceFlag("mix", values.mix, ["default", "copy-heavy"]);
  if (values.init) {
    if (names.length !== 1) throw new UsageError("--init needs one --model");
    await checkInput("init", values.init);
  }
  const outDir = values.out ?? WEIGHTS_DIR;
  const mix = mixName === "copy-heavy" ? COPY_HEAVY_MIX : CORPUS_MIX;
  const lr = numberFlag("lr", values.lr, { above: 0, max: 1 });
  let curriculum: Curriculum | undefined;
  if (values.curriculum !== undefined) {
    const [start, fullAt] = values.curriculum.split(",").map(Number);
    if (!(Number.isInteger(start) && start >= 3 && start <= 30 && fullAt >= 0 && fullAt <= 1)) {
      throw new UsageError(
        `--curriculum ${values.curriculum}: expected START,SHARE, a list length 3–30 and a share 0–1`,
      );
    }
    curriculum = { startItems: start, fullAt };
  }
  const probeEvery = intFlag("probe-every", values["probe-every"], { min: 0 }) ?? 0;
  for (const name of names) {
    const started = performance.now();
    let last = 0;
    const m = await pretrain({
      spec: LOCAL_MODELS[name],
      seed,
      steps,
      outDir,
      init: values.init,
      mix,
      learningRate: lr,
      curriculum,
      probeEvery,
      command: ["deno", "task", "pretrain", ...args].join(" "),
      onProbe: (step, p) => {
        if (values.quiet) return;
        console.error(
          `${name}: step ${step} copy probe: copy ${p.copy.recall} · label ${p.label.recall} · ` +
            `filter ${p.filter.recall}`,
        );
      },
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
      `${name}: ${m.parameters} parameters, held-out loss ${m.heldOutLoss}, copy probe ` +
        `${m.probe?.copy.recall}/${m.probe?.label.recall}/${m.probe?.filter.recall}, ` +
        `${m.seconds} s → ` +
        `${m.file} (sha256 ${m.sha256.slice(0, 12)}…)`,
    );
  }
  return 0;
}

if (import.meta.main) await runCli("pretrain", USAGE, main);
