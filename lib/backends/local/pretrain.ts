/**
 * Pretraining of a local base model from scratch on the generated corpus (`corpus.ts`): seeded
 * initial weights and data order, AdamW with linear warm-up and cosine decay, batches of
 * corpus examples (documents trained on whole, chat turns on their answers) with a curriculum
 * on list length (short lists first: the longest list grows from `startItems` to 30 over the
 * first `fullAt` share of the steps), a held-out loss and the copy probe (`probe.ts`) at the
 * end, and a GGUF file plus a manifest (checksum, corpus recipe, seed, loss curve, probe,
 * time).
 *
 * @module
 */
import { writeJsonAtomic } from "../../io/atomicFile.ts";
import { COMPLETION_PREFIX, TEXT_PREFIX } from "../../cookbook.ts";
import { NATIVE_PACKAGE } from "./native.ts";
import { native } from "./ggml.ts";
import process from "node:process";
import {
  COPY_HEAVY_MIX,
  CORPUS_MIX,
  CORPUS_VERSION,
  corpusAlphabet,
  type CorpusExample,
  CorpusGenerator,
  type CorpusKind,
  corpusWords,
  LABEL_ITEMS,
  MAX_LIST_ITEMS,
  SKILLS_MIX,
} from "./corpus.ts";
import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import { nameAccuracy } from "./teacherForced.ts";
import { writeGguf } from "./gguf.ts";
import { initWeights, type ModelConfig } from "./model.ts";
import { basename, dirname } from "node:path";
import {
  configMetadata,
  loadGgufModel,
  type LocalModelSpec,
  type Manifest,
  manifestPath,
  readManifest,
  RUNTIME_CONTEXT,
  sha256File,
  weightsPath,
} from "./models.ts";
import { probeCopy, type ProbeResult } from "./probe.ts";
import { createRng, type Rng, shuffle } from "./random.ts";
import { buildVocabulary, Tokenizer } from "./tokenizer.ts";
import { type AdamW, type Example, Trainer } from "./train.ts";

/**
 * AdamW for pretraining, as language-model pretraining sets it: β₂ = 0.95 and the gradient
 * clipped to a global norm of 1. Without them, runs on this corpus collapsed to the unigram loss
 * (about 4.4 nats) after 200–270 steps and did not recover.
 */
export const PRETRAIN_ADAMW: AdamW = {
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0,
  clipNorm: 1,
};

/** Options for {@link pretrain}. */
export interface PretrainOptions {
  spec: LocalModelSpec;
  seed: number;
  /** Overrides the spec's step count (for tests; ignored when `stages` is given). */
  steps?: number;
  outDir: string;
  /**
   * Continue from these weights (a GGUF file of the same vocabulary and shape) instead of a
   * fresh initialisation; recorded in the manifest with its SHA-256.
   */
  init?: string;
  /** Corpus mix (default {@link CORPUS_MIX}; ignored when `stages` is given). */
  mix?: Readonly<Record<CorpusKind, number>>;
  /** Curriculum on list length (default {@link DEFAULT_CURRICULUM}; ignored with `stages`). */
  curriculum?: Curriculum;
  /** Overrides the spec's peak learning rate (ignored when `stages` is given). */
  learningRate?: number;
  /**
   * The stages to train, in order (default: one stage of the spec's steps on `mix`). A stage
   * with an `exit` ends at the first probe that meets it.
   */
  stages?: readonly PretrainStage[];
  /** Also runs the copy probe every this many steps (recorded as `probeCurve`); 0: at the end only. */
  probeEvery?: number;
  /** Held-out lists per probe task (default {@link PROBE_LISTS}). */
  probeLists?: number;
  /**
   * Checkpoint file (weights, optimizer state, data position): written every
   * `checkpointSeconds` and when `signal` aborts; removed once the weights are written.
   */
  checkpoint?: string;
  /** Continue from `checkpoint` (it must be of the same run); without it an existing one is refused. */
  resume?: boolean;
  /** Seconds between checkpoints (default 180). */
  checkpointSeconds?: number;
  /** Aborting it writes a checkpoint and stops; {@link pretrain} then returns `undefined`. */
  signal?: AbortSignal;
  /** The command line that ran this, recorded in the manifest. */
  command?: string;
  /** Called with each copy probe measured during training. */
  onProbe?: (step: number, p: ProbeResult, stage: string) => void;
  /** Called after every step. */
  onStep?: (
    s: { step: number; steps: number; loss: number; tokens: number; ms: number; stage: string },
  ) => void;
  /** Called after each checkpoint is written. */
  onCheckpoint?: (step: number, path: string) => void;
}

/** Probe figures a stage must reach to end early. */
export interface ProbeExit {
  copy?: number;
  label?: number;
  filter?: number;
  /** Most names per copy answer that were not in the list. */
  maxCopyExtra?: number;
}

/** One stage of pretraining: its corpus, schedule and exit. */
export interface PretrainStage {
  name: string;
  mix: Readonly<Record<CorpusKind, number>>;
  curriculum: Curriculum;
  /** Longest list of a `label` example (default {@link LABEL_ITEMS}). */
  labelItems?: number;
  learningRate: number;
  warmupSteps: number;
  /** Steps the learning-rate schedule spans: the most this stage trains. */
  steps: number;
  exit?: ProbeExit;
}

/** Held-out lists per probe task unless told otherwise. */
export const PROBE_LISTS = 32;

/** Whether a probe meets an exit. */
export function meetsExit(p: ProbeResult, exit: ProbeExit): boolean {
  return (exit.copy === undefined || p.copy.recall >= exit.copy) &&
    (exit.label === undefined || p.label.recall >= exit.label) &&
    (exit.filter === undefined || p.filter.recall >= exit.filter) &&
    (exit.maxCopyExtra === undefined || p.copy.extraPerAnswer <= exit.maxCopyExtra);
}

/**
 * The staged recipe: copying until the probe copies ≥ 95% of a list with ≤ 0.5 extra names per
 * answer, then a mix rich in filtering, excluding and labelling (labels on lists up to 30) until
 * filter and label reach 90% with copying kept. `maxSteps` bounds each stage.
 */
export function stagedRecipe(
  learningRate: number,
  maxSteps: { copy: number; skills: number },
): PretrainStage[] {
  const copyExit = { copy: 0.95, maxCopyExtra: 0.5 };
  return [
    {
      name: "copy",
      mix: COPY_HEAVY_MIX,
      curriculum: { startItems: 30, fullAt: 0 },
      learningRate,
      warmupSteps: 40,
      steps: maxSteps.copy,
      exit: copyExit,
    },
    {
      name: "skills",
      mix: SKILLS_MIX,
      curriculum: { startItems: 30, fullAt: 0 },
      labelItems: MAX_LIST_ITEMS,
      learningRate,
      warmupSteps: 40,
      steps: maxSteps.skills,
      exit: { ...copyExit, label: 0.9, filter: 0.9 },
    },
  ];
}

/**
 * Short lists first: the longest list in the corpus grows linearly from `startItems` at the
 * first step to 30 at step `fullAt · steps`, and stays there.
 */
export interface Curriculum {
  startItems: number;
  fullAt: number;
}

/** The default curriculum: lists of up to 6 items at first, up to 30 from half of the steps. */
export const DEFAULT_CURRICULUM: Curriculum = { startItems: 6, fullAt: 0.5 };

/** Longest list at `step` (1-based) of `steps`. */
export function maxItemsAt(step: number, steps: number, c: Curriculum): number {
  const t = c.fullAt > 0 ? Math.min(1, (step - 1) / (c.fullAt * steps)) : 1;
  return Math.round(c.startItems + (MAX_LIST_ITEMS - c.startItems) * t);
}

/**
 * The vocabulary of the local models: every character the corpus and the task can use, and a
 * whole-word token for each country's and continent's name and the list separator `, `.
 */
export function localVocabulary(): string[] {
  return buildVocabulary([...corpusAlphabet(), TEXT_PREFIX, COMPLETION_PREFIX], corpusWords());
}

/** An example as token ids, with where its loss starts. */
export function encodeExample(tok: Tokenizer, e: CorpusExample): Example {
  if ("document" in e) return { ids: tok.encodeDocument(e.document), lossFrom: 1 };
  const { ids, answerStart } = tok.encodeChat(e.messages, e.answer);
  return { ids, lossFrom: answerStart };
}

/** Learning rate at `step` (1-based): linear warm-up, then cosine decay to `finalShare`. */
export function learningRateAt(
  step: number,
  p: { steps: number; learningRate: number; warmupSteps: number; finalShare: number },
): number {
  if (step <= p.warmupSteps) return (p.learningRate * step) / p.warmupSteps;
  const t = (step - p.warmupSteps) / Math.max(1, p.steps - p.warmupSteps);
  const share = p.finalShare + (1 - p.finalShare) * 0.5 * (1 + Math.cos(Math.PI * t));
  return p.learningRate * share;
}

function loadAverage(): number[] {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

function niceness(): number | null {
  try {
    return Number(Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ")[16]);
  } catch {
    return null;
  }
}

/** Counters and curves a run accumulates, kept in its checkpoints. */
interface Progress {
  examples: number;
  corpusTokens: number;
  trainedTokens: number;
  window: number[];
  curve: [number, number][];
  probeCurve: number[][];
  stages: StageRecord[];
  seconds: number;
  cpuSeconds: number;
  sittings: Sitting[];
  loadAverageStart: number[];
}

/** What one stage did, as the manifest records it. */
interface StageRecord {
  name: string;
  mix: Record<string, number>;
  curriculum: Curriculum;
  labelItems: number;
  learningRate: number;
  warmupSteps: number;
  maxSteps: number;
  steps: number;
  exit: ProbeExit | null;
  /** Total step at which the exit was met (null: not met within `maxSteps`). */
  exitMetAt: number | null;
}

/** One stretch of training between a start or resume and a stop or the end. */
interface Sitting {
  fromStep: number;
  toStep: number;
  seconds: number;
  cpuSeconds: number;
  loadAverageStart: number[];
  loadAverageEnd: number[];
}

function cpuSecondsNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Pretrains one model, stage by stage, and writes `<outDir>/<name>.gguf` and `<name>.json`.
 * With `checkpoint`, the run can stop at any moment and continue exactly (`resume`): the same
 * steps on the same batches give the same weights as an uninterrupted run. Returns the manifest,
 * or `undefined` when `signal` stopped it (its checkpoint written).
 */
export async function pretrain(opts: PretrainOptions): Promise<Manifest | undefined> {
  const { spec, seed } = opts;
  const base = spec.pretrain;
  const stages: readonly PretrainStage[] = opts.stages ?? [{
    name: "pretrain",
    mix: opts.mix ?? CORPUS_MIX,
    curriculum: opts.curriculum ?? DEFAULT_CURRICULUM,
    learningRate: opts.learningRate ?? base.learningRate,
    warmupSteps: base.warmupSteps,
    steps: opts.steps ?? base.steps,
  }];
  const probeLists = opts.probeLists ?? PROBE_LISTS;
  const vocab = localVocabulary();
  const tok = new Tokenizer(vocab);
  const cfg: ModelConfig = { ...spec.shape, vocab: vocab.length };
  let initFrom: Manifest["initFrom"] = null;
  let weights;
  if (opts.init) {
    const prior = loadGgufModel(opts.init, spec.name);
    if (prior.tokenizer.tokens.join("\u0000") !== vocab.join("\u0000")) {
      prior.weights.free();
      throw new Error(`${opts.init}: its vocabulary differs from the corpus's`);
    }
    weights = prior.weights;
    const prev = await readManifest(spec.name, dirname(opts.init)).catch(() => undefined);
    initFrom = {
      file: basename(opts.init),
      sha256: await sha256File(opts.init),
      steps: prev ? prev.pretrain.steps + (prev.initFrom?.steps ?? 0) : null,
    };
  } else weights = initWeights(cfg, createRng(seed));
  // what the run is: a checkpoint continues only a run with the same plan
  const plan = JSON.stringify({
    model: spec.name,
    cfg,
    seed,
    batch: base.batch,
    finalShare: base.finalShare,
    init: initFrom?.sha256 ?? null,
    stages,
    probeEvery: opts.probeEvery ?? 0,
    probeLists,
  });
  const heldOut = new CorpusGenerator(seed + 2).take(64).map((e) => encodeExample(tok, e));
  const trainer = new Trainer(cfg, weights, undefined, PRETRAIN_ADAMW);
  const fits = (e: Example) => e.ids.length <= cfg.context;
  const sittingStart = { load: loadAverage(), cpu: cpuSecondsNow(), at: performance.now() };
  let progress: Progress = {
    examples: 0,
    corpusTokens: 0,
    trainedTokens: 0,
    window: [],
    curve: [],
    probeCurve: [],
    stages: [],
    seconds: 0,
    cpuSeconds: 0,
    sittings: [],
    loadAverageStart: sittingStart.load,
  };
  let step = 0;
  let firstStage = 0;
  let firstStageStep = 0;
  let corpusState: number[] | undefined;
  let orderState: number[] | undefined;
  let pending: Example[][] = [];
  try {
    if (opts.checkpoint && await exists(opts.checkpoint)) {
      if (!opts.resume) {
        throw new Error(
          `${opts.checkpoint} holds a checkpoint of an unfinished run: continue it with --resume, ` +
            "or remove the file to start over",
        );
      }
      const ck = await readCheckpoint(opts.checkpoint);
      if (ck.header.plan !== plan) {
        throw new Error(
          `${opts.checkpoint} is a checkpoint of another run (model, seed, init or stages differ); ` +
            "resume with the options it was started with, or remove it to start over",
        );
      }
      for (const s of weights.specs) weights.set(s.name, ck.weights.get(s.name)!);
      trainer.restoreOptimizer(ck.optimizer);
      progress = ck.header.progress as unknown as Progress;
      step = ck.header.step;
      firstStage = ck.header.stage;
      firstStageStep = ck.header.stageStep;
      corpusState = ck.header.corpusState;
      orderState = ck.header.orderState;
      pending = ck.header.pending;
    }
    const probeModel = {
      name: spec.name,
      config: { ...cfg, context: Math.max(cfg.context, RUNTIME_CONTEXT) },
      tokenizer: tok,
      weights,
    };
    const measure = async (at: number, stage: string) => {
      const p = await probeCopy(probeModel, { lists: probeLists });
      progress.probeCurve.push([
        at,
        p.copy.recall,
        p.label.recall,
        p.filter.recall,
        p.copy.extraPerAnswer,
      ]);
      opts.onProbe?.(at, p, stage);
      return p;
    };
    let lastCheckpoint = performance.now();
    const saveCheckpoint = async (
      stage: number,
      stageStep: number,
      corpus: CorpusGenerator,
      order: Rng,
    ) => {
      if (!opts.checkpoint) return;
      const now = performance.now();
      const cpu = cpuSecondsNow();
      const sitting: Sitting = {
        fromStep: progress.sittings.at(-1)?.toStep ?? 0,
        toStep: step,
        seconds: round((now - sittingStart.at) / 1000, 1),
        cpuSeconds: round(cpu - sittingStart.cpu, 1),
        loadAverageStart: sittingStart.load,
        loadAverageEnd: loadAverage(),
      };
      const saved: Progress = {
        ...progress,
        seconds: round(progress.seconds + sitting.seconds, 1),
        cpuSeconds: round(progress.cpuSeconds + sitting.cpuSeconds, 1),
        sittings: [...progress.sittings, sitting],
      };
      await writeCheckpoint(
        opts.checkpoint,
        {
          model: spec.name,
          plan,
          step,
          stage,
          stageStep,
          corpusState: corpus.state(),
          orderState: order.state(),
          pending: pending.map((b) => b.map((e) => ({ ids: [...e.ids], lossFrom: e.lossFrom }))),
          progress: saved as unknown as Record<string, unknown>,
        },
        weights,
        trainer.optimizerState(),
      );
      lastCheckpoint = performance.now();
      opts.onCheckpoint?.(step, opts.checkpoint);
    };
    for (let si = firstStage; si < stages.length; si++) {
      const st = stages[si];
      const resumed = si === firstStage && corpusState !== undefined;
      const corpus = new CorpusGenerator(
        resumed ? corpusState! : seed + 1 + si * 1000,
        undefined,
        st.mix,
        { labelItems: st.labelItems },
      );
      const order = createRng(resumed ? orderState! : seed + 3 + si * 1000);
      if (!resumed) pending = [];
      const record: StageRecord = progress.stages[si] ?? {
        name: st.name,
        mix: { ...st.mix },
        curriculum: st.curriculum,
        labelItems: st.labelItems ?? LABEL_ITEMS,
        learningRate: st.learningRate,
        warmupSteps: st.warmupSteps,
        maxSteps: st.steps,
        steps: 0,
        exit: st.exit ?? null,
        exitMetAt: null,
      };
      progress.stages[si] = record;
      // batches of similar length (less padding): a pool of `groups` batches, sorted, then shuffled
      const bucketed = (size: number, groups: number): Example[][] => {
        const pool: Example[] = [];
        while (pool.length < size * groups) {
          const e = encodeExample(tok, corpus.next());
          progress.examples++;
          progress.corpusTokens += e.ids.length;
          if (fits(e)) pool.push(e);
        }
        pool.sort((a, b) => a.ids.length - b.ids.length);
        const out = Array.from({ length: groups }, (_, i) => pool.slice(i * size, (i + 1) * size));
        return shuffle(out, order);
      };
      const schedule = {
        steps: st.steps,
        learningRate: st.learningRate,
        warmupSteps: st.warmupSteps,
        finalShare: base.finalShare,
      };
      const finalStage = si === stages.length - 1;
      for (let k = resumed ? firstStageStep + 1 : 1; k <= st.steps; k++) {
        if (!pending.length) {
          corpus.maxItems = maxItemsAt(k, st.steps, st.curriculum);
          pending = bucketed(base.batch, 8);
        }
        const batch = pending.pop()!;
        const t0 = performance.now();
        const r = await trainer.step(batch, learningRateAt(k, schedule));
        step++;
        record.steps = k;
        progress.trainedTokens += r.tokens;
        progress.window.push(r.loss);
        if (step % 10 === 0 || (finalStage && k === st.steps)) {
          const w = progress.window;
          progress.curve.push([step, round(w.reduce((a, b) => a + b, 0) / w.length, 4)]);
          progress.window = [];
        }
        opts.onStep?.({
          step,
          steps: k,
          loss: r.loss,
          tokens: r.tokens,
          ms: performance.now() - t0,
          stage: `${st.name} ${k}/${st.steps}`,
        });
        let exitMet = false;
        if (opts.probeEvery && step % opts.probeEvery === 0 && !(finalStage && k === st.steps)) {
          const p = await measure(step, st.name);
          if (st.exit && meetsExit(p, st.exit)) {
            record.exitMetAt = step;
            exitMet = true;
          }
        }
        const due = performance.now() - lastCheckpoint >= (opts.checkpointSeconds ?? 180) * 1000;
        if (opts.signal?.aborted || (due && !exitMet)) {
          await saveCheckpoint(si, k, corpus, order);
          if (opts.signal?.aborted) return undefined;
        }
        if (exitMet) break;
      }
      pending = [];
      corpusState = undefined;
    }
    let sum = 0;
    let n = 0;
    for (let i = 0; i < heldOut.length; i += 16) {
      const r = await trainer.evaluate(heldOut.slice(i, i + 16).filter(fits));
      sum += r.loss * r.tokens;
      n += r.tokens;
    }
    const probe = await measure(step, stages.at(-1)!.name);
    const names = await nameAccuracy(probeModel, { lists: probeLists });
    const sitting: Sitting = {
      fromStep: progress.sittings.at(-1)?.toStep ?? 0,
      toStep: step,
      seconds: round((performance.now() - sittingStart.at) / 1000, 1),
      cpuSeconds: round(cpuSecondsNow() - sittingStart.cpu, 1),
      loadAverageStart: sittingStart.load,
      loadAverageEnd: loadAverage(),
    };
    await Deno.mkdir(opts.outDir, { recursive: true });
    const path = weightsPath(spec.name, opts.outDir);
    await writeGguf(path, {
      "general.architecture": "local-llama",
      "general.name": spec.name,
      "general.description":
        `A ${weights.count()}-parameter llama-style model pretrained from scratch by ` +
        "`deno task pretrain` on a generated corpus about countries and lists; not HyperCLOVA X.",
      ...configMetadata(cfg),
      "local.seed": seed,
      "local.corpus": CORPUS_VERSION,
      "tokenizer.tokens": vocab,
    }, [weights]);
    const bytes = (await Deno.stat(path)).size;
    const nat = native();
    const first = stages[0];
    const manifest: Manifest = {
      name: spec.name,
      command: opts.command ?? null,
      file: `${spec.name}.gguf`,
      sha256: await sha256File(path),
      bytes,
      format: "GGUF v3 (ggml gguf_write_to_file), F32 tensors, llama.cpp tensor names",
      parameters: weights.count(),
      config: cfg,
      seed,
      corpus: {
        version: CORPUS_VERSION,
        mix: { ...first.mix },
        curriculum: first.curriculum,
        examples: progress.examples,
        tokens: progress.corpusTokens,
        trainedTokens: progress.trainedTokens,
      },
      pretrain: {
        steps: step,
        batch: base.batch,
        learningRate: first.learningRate,
        warmupSteps: first.warmupSteps,
        finalShare: base.finalShare,
        optimizer:
          `AdamW (ggml_opt_step_adamw), β=(${PRETRAIN_ADAMW.beta1}, ${PRETRAIN_ADAMW.beta2}), ` +
          `ε=${PRETRAIN_ADAMW.eps}, weight decay ${PRETRAIN_ADAMW.weightDecay}, ` +
          `gradient clipped to global norm ${PRETRAIN_ADAMW.clipNorm}`,
      },
      stages: opts.stages ? progress.stages : undefined,
      initFrom,
      lossCurve: progress.curve,
      heldOutLoss: round(sum / n, 4),
      probe,
      probeCurve: progress.probeCurve,
      nameAccuracy: names,
      seconds: round(progress.seconds + sitting.seconds, 1),
      cpuSeconds: round(progress.cpuSeconds + sitting.cpuSeconds, 1),
      sittings: [...progress.sittings, sitting],
      machine: {
        cpuVariant: nat.variant,
        threads: nat.threads,
        loadAverageStart: progress.loadAverageStart,
        loadAverageEnd: loadAverage(),
        nice: niceness(),
      },
      tools: { deno: Deno.version.deno, native: NATIVE_PACKAGE },
    };
    const mpath = manifestPath(spec.name, opts.outDir);
    await writeJsonAtomic(mpath, manifest);
    if (opts.checkpoint) await Deno.remove(opts.checkpoint).catch(() => {});
    return manifest;
  } finally {
    trainer.free();
    weights.free();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
