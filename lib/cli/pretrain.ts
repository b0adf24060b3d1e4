/**
 * `deno task pretrain`: pretrains the local base models from scratch on the generated corpus and
 * writes `data/local-models/<name>.gguf` with its manifest `<name>.json` (see
 * `lib/backends/local/pretrain.ts`). Seeded: the same seed, steps and thread count give the same corpus,
 * data order and initial weights.
 *
 * @module
 */
import { join } from "node:path";
import {
  checkInput,
  choiceFlag,
  type FlagValues,
  intFlag,
  numberFlag,
  parseFlags,
  printUsage,
  runCli,
  UsageError,
} from "./args.ts";
import {
  ANY_ORDER_MIX,
  BLOCKS_MIX,
  COPY_HEAVY_MIX,
  CORPUS_MIX,
  type CorpusMix,
  type Curriculum,
  FIND_MIX,
  formatKindLoss,
  LOCAL_MODEL_NAMES,
  LOCAL_MODELS,
  type LocalModelName,
  ORDER_MIX,
  pretrain,
  SKILLS_MIX,
  stagedRecipe,
  type StageSteps,
  WEIGHTS_DIR,
} from "../backends/local/mod.ts";

const USAGE = `usage: deno task pretrain [options]

  --model NAME      local-1m | local-250k | all (default all)
  --seed N          seed of the corpus, data order and initial weights (default 2024)
  --steps N         optimizer steps (default: each model's own, see lib/backends/local/models.ts)
  --out DIR         output folder (default data/local-models)
  --init FILE       continue from these weights (same vocabulary and tensor shapes): a GGUF
                    file, or another run's checkpoint (its weights only)
  --heads N         attention heads (default: the model's own; the parameters stay the same,
                    the heads' width is the model's width over N)
  --mix NAME        corpus mix: default | copy-heavy | skills | blocks | find | order |
                    any-order
                    (see lib/backends/local/corpus.ts)
  --lr X            peak learning rate (default: each model's own)
  --curriculum S,F  lists of up to S items at first, up to 30 from share F of the steps
                    (default 6,0.5; 30,0 for every length from the start); with --plan
                    staged, the skills stage's (default 30,0)
  --probe-every N   run the copy probe every N steps too (default 0: at the end only)
  --probe-lists N   held-out lists per probe task (default 32)
  --plan NAME       single (default: one stage, the options above) | staged: copying until the
                    probe copies 95% with at most 0.5 extra names, then filtering, excluding and
                    labelling until filter and label reach 90%, then finding a continent's
                    countries in a list named before it until that reaches 90% too, then finding
                    them in any order until that does too (each stage ends at its exit)
  --max-steps C,S[,F[,O]]  most steps of the staged plan's copy, skills, find and order stages; 0
                    (or none given) leaves a stage out (default 2000,4000,4000)
  --checkpoint FILE checkpoint file (default <out>/<model>.checkpoint), written every
                    --checkpoint-every seconds (default 180) and on Ctrl-C
  --resume          continue the run the checkpoint holds
  --export          write <out>/<model>.gguf and .json from the checkpoint as it stands, without
                    training (the manifest says where the run is); the checkpoint stays, so the
                    run goes on with --resume. Give the run's own options.
  --quiet           no progress lines

  Long runs: stop at any moment (Ctrl-C writes a checkpoint) and continue with the same command
  plus --resume. One model per core: LOCAL_MODEL_THREADS=1.`;

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
  "probe-lists": { type: "string" },
  plan: { type: "string" },
  "max-steps": { type: "string" },
  checkpoint: { type: "string" },
  "checkpoint-every": { type: "string" },
  resume: { type: "boolean" },
  export: { type: "boolean" },
  heads: { type: "string" },
} as const;

/** The corpus mixes `--mix` names. */
const MIXES = {
  default: CORPUS_MIX,
  "copy-heavy": COPY_HEAVY_MIX,
  skills: SKILLS_MIX,
  blocks: BLOCKS_MIX,
  find: FIND_MIX,
  order: ORDER_MIX,
  "any-order": ANY_ORDER_MIX,
} as const;

/** What the flags ask for: the models to pretrain and how. */
interface PretrainPlan {
  names: LocalModelName[];
  seed: number;
  steps?: number;
  init?: string;
  mix: CorpusMix;
  learningRate?: number;
  curriculum?: Curriculum;
  /** The staged plan's step bounds (absent: one stage of the options above). */
  staged?: StageSteps;
  probeEvery: number;
  probeLists?: number;
  heads?: number;
  outDir: string;
  checkpoint?: string;
  checkpointSeconds?: number;
  resume: boolean;
  exportOnly: boolean;
  quiet: boolean;
}

/** Reads and checks the flags; a wrong one is a {@link UsageError}. */
async function readPlan(values: FlagValues<typeof OPTIONS>): Promise<PretrainPlan> {
  const model = choiceFlag("model", values.model, [...LOCAL_MODEL_NAMES, "all"]) ?? "all";
  const names: LocalModelName[] = model === "all" ? [...LOCAL_MODEL_NAMES] : [model];
  const seed = intFlag("seed", values.seed ?? "2024", { min: -(2 ** 31), max: 2 ** 32 - 1 })!;
  const steps = intFlag("steps", values.steps);
  const mixName = choiceFlag("mix", values.mix, Object.keys(MIXES) as (keyof typeof MIXES)[]);
  if (values.init) {
    if (names.length !== 1) throw new UsageError("--init needs one --model");
    await checkInput("init", values.init);
  }
  const learningRate = numberFlag("lr", values.lr, { above: 0, max: 1 });
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
  const probeLists = intFlag("probe-lists", values["probe-lists"], { min: 1, max: 1000 });
  const planName = choiceFlag("plan", values.plan, ["single", "staged"]) ?? "single";
  let maxSteps: StageSteps = { copy: 2000, skills: 4000, find: 4000 };
  if (values["max-steps"] !== undefined) {
    const counts = values["max-steps"].split(",").map(Number);
    if (
      counts.length < 2 || counts.length > 4 ||
      !counts.every((n) => Number.isInteger(n) && n >= 0 && n <= 1_000_000) ||
      counts.every((n) => n === 0)
    ) {
      throw new UsageError(
        `--max-steps ${
          values["max-steps"]
        }: expected COPY,SKILLS[,FIND[,ORDER]] step counts, not all 0`,
      );
    }
    const [copy, skills, find = 0, order = 0] = counts;
    maxSteps = { copy, skills, find, order };
  }
  if (planName === "staged" && (values.mix || values.steps)) {
    throw new UsageError("--plan staged sets its own mixes and steps (--max-steps)");
  }
  if (values.export && values.resume) {
    throw new UsageError(
      "--export writes a checkpoint's weights without training: leave out --resume",
    );
  }
  if ((values.checkpoint || values.export) && names.length !== 1) {
    throw new UsageError(`${values.export ? "--export" : "--checkpoint"} needs one --model`);
  }
  const checkpointSeconds = numberFlag("checkpoint-every", values["checkpoint-every"], {
    above: 0,
    max: 86400,
  });
  const heads = intFlag("heads", values.heads, { min: 1, max: 64 });
  const uneven = names.find((n) => heads !== undefined && LOCAL_MODELS[n].shape.dim % heads !== 0);
  if (uneven) {
    throw new UsageError(
      `--heads ${heads}: ${uneven}'s width ${
        LOCAL_MODELS[uneven].shape.dim
      } is not a multiple of it`,
    );
  }
  return {
    names,
    seed,
    steps,
    init: values.init,
    mix: MIXES[mixName ?? "default"],
    learningRate,
    curriculum,
    staged: planName === "staged" ? maxSteps : undefined,
    probeEvery,
    probeLists,
    heads,
    outDir: values.out ?? WEIGHTS_DIR,
    checkpoint: values.checkpoint,
    checkpointSeconds,
    resume: values.resume ?? false,
    exportOnly: values.export ?? false,
    quiet: values.quiet ?? false,
  };
}

/** Pretrains one model as the plan says; false when a signal stopped it (its checkpoint written). */
async function pretrainModel(
  name: LocalModelName,
  plan: PretrainPlan,
  args: string[],
  signal: AbortSignal,
): Promise<boolean> {
  const started = performance.now();
  let last = 0;
  const say = (line: string) => {
    if (!plan.quiet) console.error(line);
  };
  const spec = plan.heads === undefined
    ? LOCAL_MODELS[name]
    : { ...LOCAL_MODELS[name], shape: { ...LOCAL_MODELS[name].shape, heads: plan.heads } };
  const m = await pretrain({
    spec,
    seed: plan.seed,
    steps: plan.steps,
    outDir: plan.outDir,
    init: plan.init,
    mix: plan.mix,
    learningRate: plan.learningRate,
    curriculum: plan.curriculum,
    stages: plan.staged
      ? stagedRecipe(plan.learningRate ?? spec.pretrain.learningRate, plan.staged, plan.curriculum)
      : undefined,
    probeEvery: plan.probeEvery,
    probeLists: plan.probeLists,
    checkpoint: plan.checkpoint ?? join(plan.outDir, `${name}.checkpoint`),
    resume: plan.resume,
    exportOnly: plan.exportOnly,
    checkpointSeconds: plan.checkpointSeconds,
    signal,
    command: ["deno", "task", "pretrain", ...args].join(" "),
    onProbe: (step, p, stage) =>
      say(
        `${name}: step ${step} (${stage}) probe on ${p.lists} lists: copy ${p.copy.recall} ` +
          `(+${p.copy.extraPerAnswer} names) · label ${p.label.recall} · filter ${p.filter.recall}` +
          ` · filter after ${p.filterAfter.recall} · block ${p.block.recall}` +
          ` · any order ${p.anyOrder.recall} (+${p.anyOrder.extraPerAnswer} names)`,
      ),
    onCheckpoint: (step, path) => say(`${name}: step ${step}: checkpoint written to ${path}`),
    onStep: ({ step, loss, tokens, ms, stage }) => {
      const now = performance.now();
      if (now - last < 5000) return;
      last = now;
      say(
        `${name}: step ${step} (${stage}) · loss ${loss.toFixed(3)} · ` +
          `${Math.round(tokens / (ms / 1000))} tok/s · ${Math.round((now - started) / 1000)} s ` +
          "this sitting",
      );
    },
  });
  if (!m) {
    console.error(
      `${name}: stopped; continue with: deno task pretrain ${args.join(" ")}` +
        (plan.resume ? "" : " --resume"),
    );
    return false;
  }
  const p = m.probe;
  const where = m.unfinished
    ? ` (exported at ${m.unfinished.stage} step ${m.unfinished.stageStep}/${m.unfinished.maxSteps}; ` +
      "the checkpoint stays)"
    : "";
  console.log(
    `${name}: ${m.parameters} parameters, held-out loss ${m.heldOutLoss}, probe copy/label/` +
      `filter/filter after/block/any order ${p?.copy.recall}/${p?.label.recall}/` +
      `${p?.filter.recall}/${p?.filterAfter?.recall}/${p?.block?.recall}/` +
      `${p?.anyOrder?.recall}, ${m.seconds} s → ` +
      `${m.file} (sha256 ${m.sha256.slice(0, 12)}…)${where}`,
  );
  if (m.heldOutLossByKind) {
    console.log(`${name}: held-out loss by kind ${formatKindLoss(m.heldOutLossByKind)}`);
  }
  return true;
}

/** Parses flags and pretrains; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const values = parseFlags(args, OPTIONS);
  if (values.help) return printUsage(USAGE);
  const plan = await readPlan(values);
  const stop = new AbortController();
  const onSignal = () => {
    if (!plan.quiet) console.error("pretrain: stopping — writing a checkpoint first");
    stop.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  for (const name of plan.names) {
    if (!await pretrainModel(name, plan, args, stop.signal)) return 130;
  }
  return 0;
}

if (import.meta.main) await runCli("pretrain", USAGE, main);
