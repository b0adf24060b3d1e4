/**
 * The two local base models and their committed weights (`data/local-models/<name>.gguf`, with
 * `<name>.json` beside it: checksum, corpus recipe, seed, loss curve, time taken). They stand in
 * for the cookbook's two HyperCLOVA X models — a larger and a smaller one — and are named for
 * what they are: small llama-style models pretrained here by `deno task pretrain`.
 *
 * @module
 */
import { z } from "zod";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256Hex } from "../../io/mod.ts";
import { readGguf } from "./gguf.ts";
import { type ModelConfig, ParamSet, weightSpecs } from "./model.ts";
import { Tokenizer } from "./tokenizer.ts";
import { LOCAL_MODEL_NAMES, type LocalModelName } from "../mod.ts";

/** Pretraining settings of one model size. */
export interface PretrainSettings {
  steps: number;
  batch: number;
  learningRate: number;
  warmupSteps: number;
  /** Final learning rate as a share of the peak (cosine decay). */
  finalShare: number;
}

/** LoRA tuning defaults of one model size (what a tuning task uses unless it says otherwise). */
export interface TuningSettings {
  rank: number;
  alpha: number;
  learningRate: number;
  batch: number;
}

/** One local model size. */
export interface LocalModelSpec {
  name: LocalModelName;
  /** Shape, except the vocabulary, which comes from the corpus. */
  shape: Omit<ModelConfig, "vocab">;
  pretrain: PretrainSettings;
  tuning: TuningSettings;
  /** The cookbook model it stands in for. */
  standsInFor: "HCX-003" | "HCX-DASH-001";
}

export { LOCAL_MODEL_NAMES, type LocalModelName } from "../mod.ts";

const common = { context: 512, ropeBase: 10000, normEps: 1e-5 };

/** The two sizes: about 0.98M and 0.25M parameters. */
export const LOCAL_MODELS: Readonly<Record<LocalModelName, LocalModelSpec>> = {
  "local-1m": {
    name: "local-1m",
    shape: { dim: 128, layers: 4, heads: 4, ffn: 416, ...common },
    pretrain: { steps: 1000, batch: 64, learningRate: 2e-3, warmupSteps: 60, finalShare: 0.1 },
    tuning: { rank: 8, alpha: 16, learningRate: 2e-3, batch: 8 },
    standsInFor: "HCX-003",
  },
  "local-250k": {
    name: "local-250k",
    shape: { dim: 64, layers: 4, heads: 4, ffn: 192, ...common },
    pretrain: { steps: 2400, batch: 64, learningRate: 3e-3, warmupSteps: 60, finalShare: 0.1 },
    tuning: { rank: 8, alpha: 16, learningRate: 3e-3, batch: 8 },
    standsInFor: "HCX-DASH-001",
  },
};

/** Folder of the committed weights. */
export const WEIGHTS_DIR = fileURLToPath(new URL("../../../data/local-models/", import.meta.url));

/** Path of a model's GGUF file. */
export function weightsPath(name: LocalModelName, dir = WEIGHTS_DIR): string {
  return join(dir, `${name}.gguf`);
}

/** Path of a model's manifest. */
export function manifestPath(name: LocalModelName, dir = WEIGHTS_DIR): string {
  return join(dir, `${name}.json`);
}

/** zod schema of `<name>.json`, written by `deno task pretrain`. */
export const ManifestSchema = z.object({
  name: z.enum(LOCAL_MODEL_NAMES),
  /** The `deno task pretrain` command line that wrote these weights. */
  command: z.string().nullable().default(null),
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  format: z.string(),
  parameters: z.number().int().positive(),
  config: z.object({
    vocab: z.number(),
    dim: z.number(),
    layers: z.number(),
    heads: z.number(),
    ffn: z.number(),
    context: z.number(),
    ropeBase: z.number(),
    normEps: z.number(),
  }),
  seed: z.number().int(),
  corpus: z.object({
    version: z.string(),
    mix: z.record(z.string(), z.number()),
    /** Short lists first (absent: lists of every length from the start). */
    curriculum: z.object({ startItems: z.number(), fullAt: z.number() }).optional(),
    examples: z.number().int(),
    tokens: z.number().int(),
    trainedTokens: z.number().int(),
  }),
  pretrain: z.object({
    steps: z.number().int(),
    batch: z.number().int(),
    learningRate: z.number(),
    warmupSteps: z.number().int(),
    finalShare: z.number(),
    optimizer: z.string(),
  }),
  /** The weights this run continued from (null: trained from a fresh initialisation). */
  initFrom: z.object({
    file: z.string(),
    sha256: z.string(),
    /** Steps those weights had been trained for, in all stages. */
    steps: z.number().int().nullable(),
  }).nullable().default(null),
  /** Mean train loss per logged interval: [step, loss]. */
  lossCurve: z.array(z.tuple([z.number(), z.number()])),
  heldOutLoss: z.number(),
  /**
   * Held-out loss of each corpus kind, nats per answer token, with the floor of the kinds answered
   * in a random order (`kindLoss.ts`). Absent in manifests written before it was measured.
   */
  heldOutLossByKind: z.record(
    z.string(),
    z.object({ loss: z.number(), floor: z.number().optional() }),
  ).optional(),
  /** The copy probe at the end (`lib/backends/local/probe.ts`). */
  probe: z.object({
    copy: z.object({ recall: z.number(), extraPerAnswer: z.number() }),
    label: z.object({ recall: z.number(), extraPerAnswer: z.number() }),
    filter: z.object({ recall: z.number(), extraPerAnswer: z.number() }),
    /** Absent in manifests written before the probe asked these two. */
    filterAfter: z.object({ recall: z.number(), extraPerAnswer: z.number() }).optional(),
    block: z.object({ recall: z.number(), extraPerAnswer: z.number() }).optional(),
    /** Absent in manifests written before the probe asked it. */
    anyOrder: z.object({ recall: z.number(), extraPerAnswer: z.number() }).optional(),
    lists: z.number().int(),
    seed: z.number().int(),
  }).optional(),
  /**
   * Copy probe during training: [step, copy, label, filter] recall[, copy's extra names per
   * answer[, block recall, filter-after recall[, any-order recall]]].
   */
  probeCurve: z.array(z.array(z.number()).min(4).max(8)).optional(),
  /** Stages of a staged run: each one's corpus, schedule, steps trained and exit. */
  stages: z.array(z.object({
    name: z.string(),
    mix: z.record(z.string(), z.number()),
    curriculum: z.object({ startItems: z.number(), fullAt: z.number() }),
    labelItems: z.number().int(),
    learningRate: z.number(),
    warmupSteps: z.number().int(),
    maxSteps: z.number().int(),
    steps: z.number().int(),
    exit: z.object({
      copy: z.number().optional(),
      label: z.number().optional(),
      filter: z.number().optional(),
      filterAfter: z.number().optional(),
      block: z.number().optional(),
      anyOrder: z.number().optional(),
      maxCopyExtra: z.number().optional(),
    }).nullable(),
    /** Step at which the exit was met (null: not met within `maxSteps`). */
    exitMetAt: z.number().int().nullable(),
  })).optional(),
  /**
   * Teacher-forced name accuracy at the end (`lib/backends/local/teacherForced.ts`): the share of country
   * names in right answers to held-out copy, label and filter requests the model predicts.
   */
  nameAccuracy: z.object({
    accuracy: z.number(),
    names: z.number().int(),
    lists: z.number().int(),
    seed: z.number().int(),
  }).optional(),
  /**
   * Where the run stood when these weights were exported from its checkpoint (absent: the run
   * finished): its stage, the steps trained in it, and the most that stage may take.
   */
  unfinished: z.object({
    stage: z.string(),
    stageStep: z.number().int(),
    maxSteps: z.number().int(),
  }).optional(),
  /** Wall-clock seconds of training, in all sittings. */
  seconds: z.number(),
  /** CPU-seconds of the training process, in all sittings. */
  cpuSeconds: z.number().optional(),
  /** Each stretch of training from a start or resume to a stop or the end. */
  sittings: z.array(z.object({
    fromStep: z.number().int(),
    toStep: z.number().int(),
    seconds: z.number(),
    cpuSeconds: z.number(),
    loadAverageStart: z.array(z.number()),
    loadAverageEnd: z.array(z.number()),
  })).optional(),
  machine: z.object({
    cpuVariant: z.string(),
    threads: z.number(),
    loadAverageStart: z.array(z.number()),
    loadAverageEnd: z.array(z.number()),
    nice: z.number().nullable(),
  }),
  tools: z.object({ deno: z.string(), native: z.string() }),
});

/** A model manifest. */
export type Manifest = z.infer<typeof ManifestSchema>;

/** Reads and validates a model's manifest. */
export async function readManifest(name: LocalModelName, dir = WEIGHTS_DIR): Promise<Manifest> {
  const path = manifestPath(name, dir);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new Error(`${path} not found: run \`deno task pretrain --model ${name}\``);
  }
  return ManifestSchema.parse(JSON.parse(text));
}

/** SHA-256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  return sha256Hex(await Deno.readFile(path));
}

/** A base model in memory, ready to tune or generate. */
export interface BaseModel {
  name: string;
  config: ModelConfig;
  tokenizer: Tokenizer;
  weights: ParamSet;
}

/** The model config stored in a GGUF file's metadata. */
export function configFromMetadata(meta: Record<string, unknown>): ModelConfig {
  const num = (k: string) => {
    const v = meta[`local.${k}`];
    if (typeof v !== "number") throw new Error(`GGUF metadata local.${k} missing`);
    return v;
  };
  return {
    vocab: num("vocab"),
    dim: num("dim"),
    layers: num("layers"),
    heads: num("heads"),
    ffn: num("ffn"),
    context: num("context"),
    ropeBase: num("rope_base"),
    normEps: num("norm_eps"),
  };
}

/** GGUF metadata describing a model config. */
export function configMetadata(cfg: ModelConfig): Record<string, number> {
  return {
    "local.vocab": cfg.vocab,
    "local.dim": cfg.dim,
    "local.layers": cfg.layers,
    "local.heads": cfg.heads,
    "local.ffn": cfg.ffn,
    "local.context": cfg.context,
    "local.rope_base": cfg.ropeBase,
    "local.norm_eps": cfg.normEps,
  };
}

/**
 * Longest sequence the graphs accept when tuning and generating. Rotary positions have no
 * learned table, so this is a limit of the graphs, not of the weights; the file's own
 * `local.context` is the longest sequence pretraining used. It leaves room for the longest
 * cookbook rows (30 countries with long names: a little over 512 syllables).
 */
export const RUNTIME_CONTEXT = 768;

/** Loads a base model from a GGUF file (weights, config and vocabulary). */
export function loadGgufModel(path: string, name = path): BaseModel {
  const file = readGguf(path);
  const stored = configFromMetadata(file.metadata);
  const config = { ...stored, context: Math.max(stored.context, RUNTIME_CONTEXT) };
  const tokens = file.metadata["tokenizer.tokens"];
  if (!Array.isArray(tokens)) throw new Error(`${path}: no tokenizer.tokens`);
  const tokenizer = new Tokenizer(tokens);
  const weights = new ParamSet(weightSpecs(config));
  for (const s of weights.specs) {
    const t = file.tensors.get(s.name);
    if (!t) throw new Error(`${path}: tensor ${s.name} missing`);
    weights.set(s.name, t.data);
  }
  return { name, config, tokenizer, weights };
}

/**
 * The tokenizer of one of the committed models (the vocabulary stored with its weights, the file
 * checked against its manifest's SHA-256), without loading the weights into a model.
 */
export async function loadLocalTokenizer(
  name: LocalModelName,
  dir = WEIGHTS_DIR,
): Promise<Tokenizer> {
  const path = await checkedWeightsPath(name, dir);
  const tokens = readGguf(path).metadata["tokenizer.tokens"];
  if (!Array.isArray(tokens)) throw new Error(`${path}: no tokenizer.tokens`);
  return new Tokenizer(tokens);
}

/** The weights file of a committed model, after checking it against its manifest's SHA-256. */
async function checkedWeightsPath(name: LocalModelName, dir: string): Promise<string> {
  const manifest = await readManifest(name, dir);
  const path = weightsPath(name, dir);
  const sum = await sha256File(path).catch(() => {
    throw new Error(`${path} not found: run \`deno task pretrain --model ${name}\``);
  });
  if (sum !== manifest.sha256) {
    throw new Error(`${path}: SHA-256 ${sum} does not match its manifest (${manifest.sha256})`);
  }
  return path;
}

/**
 * Loads one of the committed models after checking the file against its manifest's SHA-256.
 */
export async function loadBaseModel(name: LocalModelName, dir = WEIGHTS_DIR): Promise<BaseModel> {
  return loadGgufModel(await checkedWeightsPath(name, dir), name);
}
