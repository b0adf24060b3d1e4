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
import { writeJsonAtomic } from "../../io/mod.ts";
import { COMPLETION_PREFIX, TEXT_PREFIX } from "../../cookbook.ts";
import { NATIVE_PACKAGE } from "./native.ts";
import { native } from "./ggml.ts";
import {
  CORPUS_MIX,
  CORPUS_VERSION,
  corpusAlphabet,
  type CorpusExample,
  CorpusGenerator,
  type CorpusKind,
  corpusWords,
  MAX_LIST_ITEMS,
} from "./corpus.ts";
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
import { createRng, shuffle } from "./random.ts";
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
  /** Overrides the spec's step count (for tests). */
  steps?: number;
  outDir: string;
  /**
   * Continue from these weights (a GGUF file of the same vocabulary and shape) instead of a
   * fresh initialisation; recorded in the manifest with its SHA-256.
   */
  init?: string;
  /** Corpus mix (default {@link CORPUS_MIX}). */
  mix?: Readonly<Record<CorpusKind, number>>;
  /** Curriculum on list length (default {@link DEFAULT_CURRICULUM}). */
  curriculum?: Curriculum;
  /** Overrides the spec's peak learning rate. */
  learningRate?: number;
  /** Also runs the copy probe every this many steps (recorded as `probeCurve`); 0: at the end only. */
  probeEvery?: number;
  /** The command line that ran this, recorded in the manifest. */
  command?: string;
  /** Called with each copy probe measured during training. */
  onProbe?: (step: number, p: ProbeResult) => void;
  /** Called after every step. */
  onStep?: (s: { step: number; steps: number; loss: number; tokens: number; ms: number }) => void;
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

/** Pretrains one model and writes `<outDir>/<name>.gguf` and `<name>.json`. */
export async function pretrain(opts: PretrainOptions): Promise<Manifest> {
  const { spec, seed } = opts;
  const settings = {
    ...spec.pretrain,
    steps: opts.steps ?? spec.pretrain.steps,
    learningRate: opts.learningRate ?? spec.pretrain.learningRate,
  };
  const curriculum = opts.curriculum ?? DEFAULT_CURRICULUM;
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
  const mix = opts.mix ?? CORPUS_MIX;
  const corpus = new CorpusGenerator(seed + 1, undefined, mix);
  const heldOut = new CorpusGenerator(seed + 2).take(64).map((e) => encodeExample(tok, e));
  const trainer = new Trainer(cfg, weights, undefined, PRETRAIN_ADAMW);
  const fits = (e: Example) => e.ids.length <= cfg.context;
  const loadStart = loadAverage();
  const order = createRng(seed + 3);
  const started = performance.now();
  const curve: [number, number][] = [];
  let examples = 0;
  let corpusTokens = 0;
  let trainedTokens = 0;
  let window: number[] = [];
  // batches of similar length (less padding): a pool of `groups` batches, sorted, then shuffled
  const bucketed = (size: number, groups: number): Example[][] => {
    const pool: Example[] = [];
    while (pool.length < size * groups) {
      const e = encodeExample(tok, corpus.next());
      examples++;
      corpusTokens += e.ids.length;
      if (fits(e)) pool.push(e);
    }
    pool.sort((a, b) => a.ids.length - b.ids.length);
    const out = Array.from({ length: groups }, (_, i) => pool.slice(i * size, (i + 1) * size));
    return shuffle(out, order);
  };
  try {
    const probeModel = {
      name: spec.name,
      config: { ...cfg, context: Math.max(cfg.context, RUNTIME_CONTEXT) },
      tokenizer: tok,
      weights,
    };
    const probeCurve: [number, number, number, number][] = [];
    const measure = async (step: number) => {
      const p = await probeCopy(probeModel);
      probeCurve.push([step, p.copy.recall, p.label.recall, p.filter.recall]);
      opts.onProbe?.(step, p);
      return p;
    };
    let pending: Example[][] = [];
    for (let step = 1; step <= settings.steps; step++) {
      if (!pending.length) {
        corpus.maxItems = maxItemsAt(step, settings.steps, curriculum);
        pending = bucketed(settings.batch, 8);
      }
      const batch = pending.pop()!;
      const t0 = performance.now();
      const r = await trainer.step(batch, learningRateAt(step, settings));
      trainedTokens += r.tokens;
      window.push(r.loss);
      if (step % 10 === 0 || step === settings.steps) {
        curve.push([
          step,
          Math.round((window.reduce((a, b) => a + b, 0) / window.length) * 1e4) / 1e4,
        ]);
        window = [];
      }
      opts.onStep?.({
        step,
        steps: settings.steps,
        loss: r.loss,
        tokens: r.tokens,
        ms: performance.now() - t0,
      });
      if (opts.probeEvery && step % opts.probeEvery === 0 && step !== settings.steps) {
        await measure(step);
      }
    }
    let sum = 0;
    let n = 0;
    for (let i = 0; i < heldOut.length; i += 16) {
      const r = await trainer.evaluate(heldOut.slice(i, i + 16).filter(fits));
      sum += r.loss * r.tokens;
      n += r.tokens;
    }
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    const probe = await measure(settings.steps);
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
        mix: { ...mix },
        curriculum,
        examples,
        tokens: corpusTokens,
        trainedTokens,
      },
      pretrain: {
        ...settings,
        optimizer:
          `AdamW (ggml_opt_step_adamw), β=(${PRETRAIN_ADAMW.beta1}, ${PRETRAIN_ADAMW.beta2}), ` +
          `ε=${PRETRAIN_ADAMW.eps}, weight decay ${PRETRAIN_ADAMW.weightDecay}, ` +
          `gradient clipped to global norm ${PRETRAIN_ADAMW.clipNorm}`,
      },
      initFrom,
      lossCurve: curve,
      heldOutLoss: Math.round((sum / n) * 1e4) / 1e4,
      probe,
      probeCurve,
      seconds,
      machine: {
        cpuVariant: nat.variant,
        threads: nat.threads,
        loadAverageStart: loadStart,
        loadAverageEnd: loadAverage(),
        nice: niceness(),
      },
      tools: { deno: Deno.version.deno, native: NATIVE_PACKAGE },
    };
    const mpath = manifestPath(spec.name, opts.outDir);
    await writeJsonAtomic(mpath, manifest);
    return manifest;
  } finally {
    trainer.free();
    weights.free();
  }
}
