/**
 * Pretraining checkpoints: one file holding everything a run needs to continue exactly where it
 * stopped — the weights, AdamW's moments and step count, and a JSON header with the position in
 * the data (random-stream states, batches drawn but not yet trained), the counters and curves so
 * far and the plan the run follows. Written atomically, so a stop at any moment leaves the
 * previous checkpoint or the new one, never half of one.
 *
 * Layout: the 8 bytes `LCKPT01\n`, the header's length (u32, little-endian), the header (UTF-8
 * JSON), zero padding to a multiple of 4, then the F32 values of each tensor the header lists,
 * in its order.
 *
 * @module
 */
import { z } from "zod";
import { writeFileAtomic } from "../../io/mod.ts";
import type { ParamSet } from "./model.ts";
import type { OptimizerState } from "./train.ts";

const MAGIC = new TextEncoder().encode("LCKPT01\n");

/** zod schema of a checkpoint's header. */
export const CheckpointHeaderSchema = z.object({
  /** The model's name and what the run is: compared on resume, so a checkpoint continues only its own run. */
  model: z.string(),
  plan: z.string(),
  /** Optimizer steps taken in all stages. */
  step: z.number().int().nonnegative(),
  /** Stage being trained, and steps taken in it. */
  stage: z.number().int().nonnegative(),
  stageStep: z.number().int().nonnegative(),
  /** Random-stream states: the stage's corpus and the batch order. */
  corpusState: z.array(z.number()),
  orderState: z.array(z.number()),
  /** Batches drawn and not yet trained on (token ids and where the loss starts). */
  pending: z.array(z.array(z.object({ ids: z.array(z.number().int()), lossFrom: z.number() }))),
  /** Counters and curves so far (see the manifest). */
  progress: z.record(z.string(), z.unknown()),
  /** Tensors stored after the header: name and value count. Weights first, then `m.`/`v.` moments. */
  tensors: z.array(z.tuple([z.string(), z.number().int().positive()])),
  optimizerSteps: z.number().int().nonnegative(),
  written: z.string(),
});

/** A checkpoint's header. */
export type CheckpointHeader = z.infer<typeof CheckpointHeaderSchema>;

/** A checkpoint read back: its header, the weights and the optimizer state. */
export interface Checkpoint {
  header: CheckpointHeader;
  weights: Map<string, Float32Array>;
  optimizer: OptimizerState;
}

/** Writes a checkpoint of `weights` and `optimizer` with `header` to `path` (atomically). */
export async function writeCheckpoint(
  path: string,
  header: Omit<CheckpointHeader, "tensors" | "optimizerSteps" | "written">,
  weights: ParamSet,
  optimizer: OptimizerState,
): Promise<void> {
  const tensors: [string, Float32Array][] = [];
  for (const s of weights.specs) tensors.push([s.name, weights.read(s.name)]);
  for (const [name, values] of optimizer.m) tensors.push([`m.${name}`, values]);
  for (const [name, values] of optimizer.v) tensors.push([`v.${name}`, values]);
  const full: CheckpointHeader = {
    ...header,
    tensors: tensors.map(([n, v]) => [n, v.length]),
    optimizerSteps: optimizer.steps,
    written: new Date().toISOString(),
  };
  const json = new TextEncoder().encode(JSON.stringify(full));
  const start = Math.ceil((MAGIC.length + 4 + json.length) / 4) * 4;
  const headBytes = new Uint8Array(start);
  headBytes.set(MAGIC);
  new DataView(headBytes.buffer).setUint32(MAGIC.length, json.length, true);
  headBytes.set(json, MAGIC.length + 4);
  const chunks = [
    headBytes,
    ...tensors.map(([, v]) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength)),
  ];
  await writeFileAtomic(path, chunks);
}

/** Whether `path` starts as a checkpoint does. */
export async function isCheckpoint(path: string): Promise<boolean> {
  const file = await Deno.open(path);
  try {
    const head = new Uint8Array(MAGIC.length);
    const n = await file.read(head);
    return n === MAGIC.length && MAGIC.every((b, i) => head[i] === b);
  } finally {
    file.close();
  }
}

/** Reads a checkpoint; a file that is not one, or is cut short, is an error naming it. */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  const bytes = await Deno.readFile(path);
  const bad = (why: string) => new Error(`${path}: not a pretraining checkpoint (${why})`);
  if (bytes.length < MAGIC.length + 4 || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw bad("no LCKPT01 header");
  }
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length, true);
  const end = MAGIC.length + 4 + length;
  if (end > bytes.length) throw bad("header cut short");
  let header: CheckpointHeader;
  try {
    header = CheckpointHeaderSchema.parse(
      JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, end))),
    );
  } catch (e) {
    throw bad(`header: ${e instanceof Error ? e.message.split("\n")[0] : e}`);
  }
  let at = Math.ceil(end / 4) * 4;
  const weights = new Map<string, Float32Array>();
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  for (const [name, count] of header.tensors) {
    if (at + count * 4 > bytes.length) throw bad(`tensor ${name} cut short`);
    const values = new Float32Array(bytes.slice(at, at + count * 4).buffer);
    at += count * 4;
    if (name.startsWith("m.")) m.set(name.slice(2), values);
    else if (name.startsWith("v.")) v.set(name.slice(2), values);
    else weights.set(name, values);
  }
  if (at !== bytes.length) throw bad(`${bytes.length - at} bytes after the last tensor`);
  return { header, weights, optimizer: { m, v, steps: header.optimizerSteps } };
}

/**
 * Sets `weights` to the weights `ck` holds; a tensor it lacks or holds in another size is an error
 * naming `path` (the checkpoint's file) and `model`.
 */
export function copyCheckpointWeights(
  ck: Checkpoint,
  path: string,
  weights: ParamSet,
  model: string,
): void {
  for (const s of weights.specs) {
    const values = ck.weights.get(s.name);
    if (values?.length !== s.ne.reduce((a, b) => a * b, 1)) {
      throw new Error(`${path}: its ${s.name} does not fit ${model}'s shape`);
    }
    weights.set(s.name, values);
  }
}
