/**
 * Reads and writes model files in GGUF, ggml's file format, through ggml's own GGUF functions:
 * string and number metadata, string arrays (the vocabulary) and F32 tensors. A file is written
 * atomically (`writeAtomic`), so a crash never leaves half a file.
 *
 * @module
 */
import { writeAtomic } from "../../io/atomicFile.ts";
import { cstr, GGML_TYPE, native, readCString, shape, type Tensor } from "./ggml.ts";
import type { ParamSet } from "./model.ts";

/** A metadata value: string, number or string array. */
export type GgufValue = string | number | readonly string[];

/** Metadata: integers in [0, 2³²) are stored as `u32`, other numbers as `f32`. */
export type GgufMetadata = Record<string, GgufValue>;

/** A GGUF file's contents. */
export interface GgufFile {
  metadata: GgufMetadata;
  /** F32 tensors by name, with their shapes (trailing 1s dropped). */
  tensors: Map<string, { ne: number[]; data: Float32Array }>;
}

const TYPE = { u32: 4, f32: 6, string: 8, array: 9 } as const;

/** Writes `metadata` and every tensor of `sets` to `path` (atomically). */
export async function writeGguf(
  path: string,
  metadata: GgufMetadata,
  sets: readonly ParamSet[],
): Promise<void> {
  const { base } = native();
  const ctx = base.gguf_init_empty();
  if (!ctx) throw new Error("gguf_init_empty failed");
  try {
    for (const [key, value] of Object.entries(metadata)) {
      const k = cstr(key);
      if (typeof value === "string") base.gguf_set_val_str(ctx, k, cstr(value));
      else if (typeof value === "number") {
        if (Number.isInteger(value) && value >= 0 && value < 2 ** 32) {
          base.gguf_set_val_u32(ctx, k, value);
        } else base.gguf_set_val_f32(ctx, k, value);
      } else {
        const strings = value.map((s) => cstr(s));
        const ptrs = new BigUint64Array(
          strings.map((s) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(s)))),
        );
        base.gguf_set_arr_str(ctx, k, new Uint8Array(ptrs.buffer), BigInt(strings.length));
      }
    }
    for (const set of sets) for (const t of set.all()) base.gguf_add_tensor(ctx, t);
    await writeAtomic(path, (tmp) => {
      if (!base.gguf_write_to_file(ctx, cstr(tmp), false)) {
        throw new Error(`could not write ${tmp}`);
      }
      return Promise.resolve();
    });
  } finally {
    base.gguf_free(ctx);
  }
}

/** Reads a GGUF file (metadata and F32 tensors) into memory. */
export function readGguf(path: string): GgufFile {
  const { base } = native();
  try {
    Deno.statSync(path);
  } catch {
    throw new Error(`model file ${path} not found`);
  }
  // larger than V8's on-heap typed-array limit, so its address is stable while C writes to it
  const ctxOut = new BigUint64Array(16);
  const params = new Uint8Array(16);
  const where = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(ctxOut)));
  new DataView(params.buffer).setBigUint64(8, where, true);
  const g = base.gguf_init_from_file(cstr(path), params);
  if (!g) throw new Error(`${path} is not a readable GGUF file`);
  const ggmlCtx = Deno.UnsafePointer.create(ctxOut[0]);
  try {
    const metadata: GgufMetadata = {};
    const n = Number(base.gguf_get_n_kv(g));
    for (let i = 0; i < n; i++) {
      const id = BigInt(i);
      const key = readCString(base.gguf_get_key(g, id)) ?? "";
      const type = base.gguf_get_kv_type(g, id);
      if (type === TYPE.string) metadata[key] = readCString(base.gguf_get_val_str(g, id)) ?? "";
      else if (type === TYPE.u32) metadata[key] = base.gguf_get_val_u32(g, id);
      else if (type === TYPE.f32) metadata[key] = base.gguf_get_val_f32(g, id);
      else if (type === TYPE.array && base.gguf_get_arr_type(g, id) === TYPE.string) {
        const len = Number(base.gguf_get_arr_n(g, id));
        metadata[key] = Array.from(
          { length: len },
          (_, j) => readCString(base.gguf_get_arr_str(g, id, BigInt(j))) ?? "",
        );
      }
    }
    const tensors = new Map<string, { ne: number[]; data: Float32Array }>();
    if (ggmlCtx) {
      for (
        let t: Tensor | null = base.ggml_get_first_tensor(ggmlCtx);
        t !== null;
        t = base.ggml_get_next_tensor(ggmlCtx, t)
      ) {
        // the context also holds one I8 tensor with the whole data blob: F32 tensors only
        if (new Deno.UnsafePointerView(t).getInt32(0) !== GGML_TYPE.F32) continue;
        const name = readCString(base.ggml_get_name(t)) ?? "";
        const ne = shape(t);
        const count = ne.reduce((a, b) => a * b, 1);
        const ptr = base.ggml_get_data(t);
        if (!ptr) throw new Error(`${path}: tensor ${name} has no data`);
        const data = new Float32Array(count);
        Deno.UnsafePointerView.copyInto(ptr, data);
        while (ne.length > 1 && ne[ne.length - 1] === 1) ne.pop();
        tensors.set(name, { ne, data });
      }
    }
    return { metadata, tensors };
  } finally {
    if (ggmlCtx) base.ggml_free(ggmlCtx);
    base.gguf_free(g);
  }
}
