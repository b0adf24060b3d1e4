/**
 * Pretraining of a local base model on the generated corpus (`corpus.ts`), from seeded initial
 * weights or from a committed model: AdamW with linear warm-up and cosine decay per stage
 * (`recipe.ts`), batches of corpus examples (documents trained on whole, chat turns on their
 * answers) bucketed by length, the probe (`probe.ts`) during and after training, checkpoints that
 * continue exactly (`checkpoint.ts`), and a GGUF file plus a manifest (checksum, corpus recipe,
 * seed, loss and probe curves, sittings).
 *
 * @module
 */
import { writeJsonAtomic } from "../../io/mod.ts";
import { COMPLETION_PREFIX, TEXT_PREFIX } from "../../cookbook.ts";
import { NATIVE_PACKAGE } from "./native.ts";
import { native } from "./ggml.ts";
import {
  CORPUS_MIX,
  CORPUS_VERSION,
  corpusAlphabet,
  CorpusGenerator,
  type CorpusMix,
  corpusWords,
  LABEL_ITEMS,
} from "./corpus.ts";
import {
  copyCheckpointWeights,
  isCheckpoint,
  readCheckpoint,
  writeCheckpoint,
} from "./checkpoint.ts";
import { nameAccuracy } from "./teacherForced.ts";
import { writeGguf } from "./gguf.ts";
import { initWeights, type ModelConfig, type ParamSet } from "./model.ts";
import { basename, dirname } from "node:path";
import {
  type BaseModel,
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
import { type AdamW, encodeExample, type Example, Trainer } from "./train.ts";
import { lossByKind } from "./kindLoss.ts";
import {
  type Curriculum,
  DEFAULT_CURRICULUM,
  learningRateAt,
  maxItemsAt,
  meetsExit,
  type PretrainStage,
  PROBE_LISTS,
  type ProbeExit,
} from "./recipe.ts";
import { loadAverage, niceness, round, type Sitting, SittingClock } from "./sittings.ts";

export * from "./recipe.ts";

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
   * Continue from these weights instead of a fresh initialisation: a GGUF file of the same
   * vocabulary and tensor shapes, or another run's checkpoint (its weights only); recorded in the
   * manifest with its SHA-256.
   */
  init?: string;
  /** Corpus mix (default {@link CORPUS_MIX}; ignored when `stages` is given). */
  mix?: CorpusMix;
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
  /**
   * Write the weights and manifest of `checkpoint` as it stands, without training (the manifest's
   * `unfinished` says where the run is); the checkpoint stays, so the run can go on.
   */
  exportOnly?: boolean;
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

/**
 * The vocabulary of the local models: every character the corpus and the task can use, and a
 * whole-word token for each country's and continent's name and the list separator `, `.
 */
export function localVocabulary(): string[] {
  return buildVocabulary([...corpusAlphabet(), TEXT_PREFIX, COMPLETION_PREFIX], corpusWords());
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

/** Where a run stands in its data: what a checkpoint restores besides weights and optimizer. */
interface Position {
  step: number;
  stage: number;
  stageStep: number;
  corpusState?: number[];
  orderState?: number[];
  pending: Example[][];
}

/** The model a run starts from: fresh weights or a committed model's. */
async function startingWeights(
  opts: PretrainOptions,
  cfg: ModelConfig,
  vocab: string[],
): Promise<{ weights: ParamSet; initFrom: Manifest["initFrom"] }> {
  if (!opts.init) return { weights: initWeights(cfg, createRng(opts.seed)), initFrom: null };
  if (await isCheckpoint(opts.init)) {
    const ck = await readCheckpoint(opts.init);
    const weights = initWeights(cfg, createRng(opts.seed));
    try {
      copyCheckpointWeights(ck, opts.init, weights, opts.spec.name);
    } catch (e) {
      weights.free();
      throw e;
    }
    return {
      weights,
      initFrom: {
        file: basename(opts.init),
        sha256: await sha256File(opts.init),
        steps: ck.header.step,
      },
    };
  }
  const prior = loadGgufModel(opts.init, opts.spec.name);
  if (prior.tokenizer.tokens.join("\u0000") !== vocab.join("\u0000")) {
    prior.weights.free();
    throw new Error(`${opts.init}: its vocabulary differs from the corpus's`);
  }
  const prev = await readManifest(opts.spec.name, dirname(opts.init)).catch(() => undefined);
  return {
    weights: prior.weights,
    initFrom: {
      file: basename(opts.init),
      sha256: await sha256File(opts.init),
      steps: prev ? prev.pretrain.steps + (prev.initFrom?.steps ?? 0) : null,
    },
  };
}

/**
 * Pretrains one model, stage by stage, and writes `<outDir>/<name>.gguf` and `<name>.json`.
 * With `checkpoint`, the run can stop at any moment and continue exactly (`resume`): the same
 * steps on the same batches give the same weights as an uninterrupted run. Returns the manifest,
 * or `undefined` when `signal` stopped it (its checkpoint written).
 */
export async function pretrain(opts: PretrainOptions): Promise<Manifest | undefined> {
  const base = opts.spec.pretrain;
  const stages: readonly PretrainStage[] = opts.stages ?? [{
    name: "pretrain",
    mix: opts.mix ?? CORPUS_MIX,
    curriculum: opts.curriculum ?? DEFAULT_CURRICULUM,
    learningRate: opts.learningRate ?? base.learningRate,
    warmupSteps: base.warmupSteps,
    steps: opts.steps ?? base.steps,
  }];
  const vocab = localVocabulary();
  const cfg: ModelConfig = { ...opts.spec.shape, vocab: vocab.length };
  const { weights, initFrom } = await startingWeights(opts, cfg, vocab);
  const run = new PretrainRun(opts, stages, vocab, cfg, weights, initFrom);
  try {
    if (!await run.restore()) return undefined;
    if (opts.exportOnly) return await run.finish(true);
    for (let si = run.position.stage; si < stages.length; si++) {
      if (!await run.trainStage(si)) return undefined;
    }
    return await run.finish();
  } finally {
    run.free();
  }
}

/** One pretraining run under way: its plan, weights, optimizer, data position and progress. */
class PretrainRun {
  readonly tok: Tokenizer;
  readonly trainer: Trainer;
  readonly probeModel: BaseModel;
  readonly probeLists: number;
  /** What the run is: a checkpoint continues only a run with the same plan. */
  readonly plan: string;
  readonly clock = new SittingClock();
  position: Position = { step: 0, stage: 0, stageStep: 0, pending: [] };
  progress: Progress;
  #lastCheckpoint = performance.now();

  constructor(
    readonly opts: PretrainOptions,
    readonly stages: readonly PretrainStage[],
    readonly vocab: string[],
    readonly cfg: ModelConfig,
    readonly weights: ParamSet,
    readonly initFrom: Manifest["initFrom"],
  ) {
    const base = opts.spec.pretrain;
    this.tok = new Tokenizer(vocab);
    this.probeLists = opts.probeLists ?? PROBE_LISTS;
    this.plan = JSON.stringify({
      model: opts.spec.name,
      corpus: CORPUS_VERSION,
      cfg,
      seed: opts.seed,
      batch: base.batch,
      finalShare: base.finalShare,
      init: initFrom?.sha256 ?? null,
      stages,
      probeEvery: opts.probeEvery ?? 0,
      probeLists: this.probeLists,
    });
    this.trainer = new Trainer(cfg, weights, undefined, PRETRAIN_ADAMW);
    this.probeModel = {
      name: opts.spec.name,
      config: { ...cfg, context: Math.max(cfg.context, RUNTIME_CONTEXT) },
      tokenizer: this.tok,
      weights,
    };
    this.progress = {
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
      loadAverageStart: this.clock.loadAverageStart,
    };
  }

  /**
   * Continues from the checkpoint when there is one (refusing one of another run, or one not
   * asked to be resumed). Always true: a fresh run and a resumed one both go on.
   */
  async restore(): Promise<boolean> {
    const path = this.opts.checkpoint;
    if (!path || !await exists(path)) {
      if (this.opts.exportOnly) {
        throw new Error(`${path ?? "no checkpoint"}: no checkpoint to export`);
      }
      return true;
    }
    if (!this.opts.resume && !this.opts.exportOnly) {
      throw new Error(
        `${path} holds a checkpoint of an unfinished run: continue it with --resume, ` +
          "or remove the file to start over",
      );
    }
    const ck = await readCheckpoint(path);
    if (ck.header.plan !== this.plan) {
      throw new Error(
        `${path} is a checkpoint of another run (model, seed, init, stages or corpus version ` +
          `differ; this code writes ${CORPUS_VERSION}); ` +
          "resume with the options it was started with, or remove it to start over",
      );
    }
    for (const s of this.weights.specs) this.weights.set(s.name, ck.weights.get(s.name)!);
    this.trainer.restoreOptimizer(ck.optimizer);
    this.progress = ck.header.progress as unknown as Progress;
    const h = ck.header;
    this.position = {
      step: h.step,
      stage: h.stage,
      stageStep: h.stageStep,
      corpusState: h.corpusState,
      orderState: h.orderState,
      pending: h.pending,
    };
    return true;
  }

  /** Runs the probe on the weights as they are and records it in the probe curve. */
  async measure(at: number, stage: string): Promise<ProbeResult> {
    const p = await probeCopy(this.probeModel, { lists: this.probeLists });
    this.progress.probeCurve.push([
      at,
      p.copy.recall,
      p.label.recall,
      p.filter.recall,
      p.copy.extraPerAnswer,
      p.block.recall,
      p.filterAfter.recall,
      p.anyOrder.recall,
    ]);
    this.opts.onProbe?.(at, p, stage);
    return p;
  }

  /**
   * Trains stage `si` until its exit is met or its steps run out. Returns false when the signal
   * stopped it (after writing a checkpoint).
   */
  async trainStage(si: number): Promise<boolean> {
    const { opts, position: pos, progress } = this;
    const base = opts.spec.pretrain;
    const st = this.stages[si];
    const resumed = si === pos.stage && pos.corpusState !== undefined;
    const corpus = new CorpusGenerator(
      resumed ? pos.corpusState! : opts.seed + 1 + si * 1000,
      undefined,
      st.mix,
      { labelItems: st.labelItems },
    );
    const order = createRng(resumed ? pos.orderState! : opts.seed + 3 + si * 1000);
    if (!resumed) pos.pending = [];
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
    const schedule = {
      steps: st.steps,
      learningRate: st.learningRate,
      warmupSteps: st.warmupSteps,
      finalShare: base.finalShare,
    };
    const finalStage = si === this.stages.length - 1;
    for (let k = resumed ? pos.stageStep + 1 : 1; k <= st.steps; k++) {
      if (!pos.pending.length) {
        corpus.maxItems = maxItemsAt(k, st.steps, st.curriculum);
        pos.pending = this.#bucketed(corpus, order, base.batch, 8);
      }
      const batch = pos.pending.pop()!;
      const t0 = performance.now();
      const r = await this.trainer.step(batch, learningRateAt(k, schedule));
      pos.step++;
      record.steps = k;
      progress.trainedTokens += r.tokens;
      progress.window.push(r.loss);
      if (pos.step % 10 === 0 || (finalStage && k === st.steps)) {
        const w = progress.window;
        progress.curve.push([pos.step, round(w.reduce((a, b) => a + b, 0) / w.length, 4)]);
        progress.window = [];
      }
      opts.onStep?.({
        step: pos.step,
        steps: k,
        loss: r.loss,
        tokens: r.tokens,
        ms: performance.now() - t0,
        stage: `${st.name} ${k}/${st.steps}`,
      });
      let exitMet = false;
      if (opts.probeEvery && pos.step % opts.probeEvery === 0 && !(finalStage && k === st.steps)) {
        const p = await this.measure(pos.step, st.name);
        if (st.exit && meetsExit(p, st.exit)) {
          record.exitMetAt = pos.step;
          exitMet = true;
        }
      }
      const due =
        performance.now() - this.#lastCheckpoint >= (opts.checkpointSeconds ?? 180) * 1000;
      if (opts.signal?.aborted || (due && !exitMet)) {
        await this.#saveCheckpoint(si, k, corpus, order);
        if (opts.signal?.aborted) return false;
      }
      if (exitMet) break;
    }
    pos.pending = [];
    pos.corpusState = undefined;
    return true;
  }

  /** Batches of similar length (less padding): a pool of `groups` batches, sorted, then shuffled. */
  #bucketed(corpus: CorpusGenerator, order: Rng, size: number, groups: number): Example[][] {
    const pool: Example[] = [];
    while (pool.length < size * groups) {
      const e = encodeExample(this.tok, corpus.next());
      this.progress.examples++;
      this.progress.corpusTokens += e.ids.length;
      if (this.#fits(e)) pool.push(e);
    }
    pool.sort((a, b) => a.ids.length - b.ids.length);
    const out = Array.from({ length: groups }, (_, i) => pool.slice(i * size, (i + 1) * size));
    return shuffle(out, order);
  }

  #fits(e: Example): boolean {
    return e.ids.length <= this.cfg.context;
  }

  /** Where an unfinished run stands: its stage, the steps trained in it and the most it may take. */
  #whereNow(): { stage: string; stageStep: number; maxSteps: number } {
    const st = this.stages[this.position.stage];
    return { stage: st.name, stageStep: this.position.stageStep, maxSteps: st.steps };
  }

  /** The sitting under way, ending at the current step. */
  #sitting(): Sitting {
    return this.clock.sitting(this.progress.sittings.at(-1)?.toStep ?? 0, this.position.step);
  }

  async #saveCheckpoint(stage: number, stageStep: number, corpus: CorpusGenerator, order: Rng) {
    const path = this.opts.checkpoint;
    if (!path) return;
    const sitting = this.#sitting();
    const saved: Progress = {
      ...this.progress,
      seconds: round(this.progress.seconds + sitting.seconds, 1),
      cpuSeconds: round(this.progress.cpuSeconds + sitting.cpuSeconds, 1),
      sittings: [...this.progress.sittings, sitting],
    };
    await writeCheckpoint(
      path,
      {
        model: this.opts.spec.name,
        plan: this.plan,
        step: this.position.step,
        stage,
        stageStep,
        corpusState: corpus.state(),
        orderState: order.state(),
        pending: this.position.pending.map((b) =>
          b.map((e) => ({ ids: [...e.ids], lossFrom: e.lossFrom }))
        ),
        progress: saved as unknown as Record<string, unknown>,
      },
      this.weights,
      this.trainer.optimizerState(),
    );
    this.#lastCheckpoint = performance.now();
    this.opts.onCheckpoint?.(this.position.step, path);
  }

  /**
   * Held-out loss, the final probe and name accuracy; writes the GGUF and its manifest. `midway`:
   * the run is not over (an export of its checkpoint, which is kept).
   */
  async finish(midway = false): Promise<Manifest> {
    const { opts, progress, weights, cfg } = this;
    const { spec, seed } = opts;
    const base = spec.pretrain;
    const step = this.position.step;
    const heldOut = new CorpusGenerator(seed + 2).take(64).map((e) => encodeExample(this.tok, e));
    let sum = 0;
    let n = 0;
    for (let i = 0; i < heldOut.length; i += 16) {
      const r = await this.trainer.evaluate(heldOut.slice(i, i + 16).filter((e) => this.#fits(e)));
      sum += r.loss * r.tokens;
      n += r.tokens;
    }
    const byKind = await lossByKind((b) => this.trainer.evaluate(b), this.tok, {
      context: cfg.context,
    });
    const probe = await this.measure(
      step,
      midway ? this.#whereNow().stage : this.stages.at(-1)!.name,
    );
    const names = await nameAccuracy(this.probeModel, { lists: this.probeLists });
    const sitting = midway ? undefined : this.#sitting();
    const sittings = sitting ? [...progress.sittings, sitting] : progress.sittings;
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
      "tokenizer.tokens": this.vocab,
    }, [weights]);
    const bytes = (await Deno.stat(path)).size;
    const nat = native();
    const first = this.stages[0];
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
      initFrom: this.initFrom,
      lossCurve: progress.curve,
      heldOutLoss: round(sum / n, 4),
      heldOutLossByKind: byKind,
      probe,
      probeCurve: progress.probeCurve,
      nameAccuracy: names,
      unfinished: midway ? this.#whereNow() : undefined,
      seconds: round(progress.seconds + (sitting?.seconds ?? 0), 1),
      cpuSeconds: round(progress.cpuSeconds + (sitting?.cpuSeconds ?? 0), 1),
      sittings,
      machine: {
        cpuVariant: nat.variant,
        threads: nat.threads,
        loadAverageStart: progress.loadAverageStart,
        loadAverageEnd: loadAverage(),
        nice: niceness(),
      },
      tools: { deno: Deno.version.deno, native: NATIVE_PACKAGE },
    };
    await writeJsonAtomic(manifestPath(spec.name, opts.outDir), manifest);
    if (opts.checkpoint && !midway) await Deno.remove(opts.checkpoint).catch(() => {});
    return manifest;
  }

  free(): void {
    this.trainer.free();
    this.weights.free();
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
