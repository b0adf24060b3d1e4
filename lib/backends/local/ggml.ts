/**
 * Typed helpers over the raw ggml functions of `native.ts`: contexts, tensors, the graph
 * operations the local model uses, backend buffers and data transfer. A {@link Tensor} is an
 * opaque pointer to a `struct ggml_tensor`; its shape is read from the struct (`ne` at byte 16).
 *
 * @module
 */
import { loadNative, type Native } from "./native.ts";

/** An opaque `struct ggml_tensor *`. */
export type Tensor = Deno.PointerObject;
/** An opaque pointer to some other ggml object (context, graph, buffer, backend). */
export type Handle = Deno.PointerObject;

/** ggml's type ids for the types used here. */
export const GGML_TYPE = { F32: 0, I32: 26, I64: 27 } as const;

const encoder = new TextEncoder();

/** A NUL-terminated UTF-8 copy of `s` for `const char *` arguments. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Reads a C string (or null for a NULL pointer). */
export function readCString(p: Deno.PointerValue): string | null {
  return p === null ? null : new Deno.UnsafePointerView(p).getCString();
}

function nonNull(p: Deno.PointerValue, what: string): Deno.PointerObject {
  if (p === null) throw new Error(`ggml: ${what} returned NULL`);
  return p;
}

/** The native libraries, loaded once. */
export function native(): Native {
  return loadNative();
}

/** Number of elements per dimension (`ne[0..3]`) of a tensor. */
export function shape(t: Tensor): [number, number, number, number] {
  const v = new Deno.UnsafePointerView(t);
  return [0, 1, 2, 3].map((i) => Number(v.getBigInt64(16 + 8 * i))) as [
    number,
    number,
    number,
    number,
  ];
}

/** Element count of a tensor. */
export function numel(t: Tensor): number {
  const [a, b, c, d] = shape(t);
  return a * b * c * d;
}

/** A ggml context that holds tensor and graph metadata only (`no_alloc`); data lives in buffers. */
export class Context {
  readonly ptr: Handle;
  #freed = false;

  /** Room for `tensors` tensor headers and, when `graphSize` > 0, one graph of that size. */
  constructor(tensors: number, graphSize = 0, grads = false) {
    const { base } = native();
    let bytes = Number(base.ggml_tensor_overhead()) * tensors;
    if (graphSize > 0) bytes += Number(base.ggml_graph_overhead_custom(BigInt(graphSize), grads));
    const params = new Uint8Array(24);
    const dv = new DataView(params.buffer);
    dv.setBigUint64(0, BigInt(bytes), true);
    dv.setUint8(16, 1); // no_alloc
    this.ptr = nonNull(base.ggml_init(params), "ggml_init");
  }

  /** A new F32/I32/I64 tensor of 1–4 dimensions. */
  tensor(type: number, ...dims: number[]): Tensor {
    const { base } = native();
    const c = this.ptr;
    const ne = dims.map(BigInt);
    switch (ne.length) {
      case 1:
        return nonNull(base.ggml_new_tensor_1d(c, type, ne[0]), "ggml_new_tensor_1d");
      case 2:
        return nonNull(base.ggml_new_tensor_2d(c, type, ne[0], ne[1]), "ggml_new_tensor_2d");
      case 3:
        return nonNull(base.ggml_new_tensor_3d(c, type, ne[0], ne[1], ne[2]), "new_tensor_3d");
      case 4:
        return nonNull(
          base.ggml_new_tensor_4d(c, type, ne[0], ne[1], ne[2], ne[3]),
          "ggml_new_tensor_4d",
        );
    }
    throw new RangeError(`tensor with ${dims.length} dimensions`);
  }

  /** A named F32 tensor. */
  f32(name: string, ...ne: number[]): Tensor {
    const t = this.tensor(GGML_TYPE.F32, ...ne);
    native().base.ggml_set_name(t, cstr(name));
    return t;
  }

  /** Frees the context (tensor headers; never the buffers holding their data). */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    native().base.ggml_free(this.ptr);
  }
}

/** The graph operations the model uses, creating their result tensors in one context. */
export class Ops {
  constructor(readonly ctx: Context) {}
  #b() {
    return native().base;
  }
  #c() {
    return this.ctx.ptr;
  }
  getRows(a: Tensor, idx: Tensor): Tensor {
    return nonNull(this.#b().ggml_get_rows(this.#c(), a, idx), "get_rows");
  }
  setRows(dst: Tensor, src: Tensor, idx: Tensor): Tensor {
    return nonNull(this.#b().ggml_set_rows(this.#c(), dst, src, idx), "set_rows");
  }
  rmsNorm(a: Tensor, eps: number): Tensor {
    return nonNull(this.#b().ggml_rms_norm(this.#c(), a, eps), "rms_norm");
  }
  mul(a: Tensor, b: Tensor): Tensor {
    return nonNull(this.#b().ggml_mul(this.#c(), a, b), "mul");
  }
  add(a: Tensor, b: Tensor): Tensor {
    return nonNull(this.#b().ggml_add(this.#c(), a, b), "add");
  }
  scale(a: Tensor, s: number): Tensor {
    return nonNull(this.#b().ggml_scale(this.#c(), a, s), "scale");
  }
  sqr(a: Tensor): Tensor {
    return nonNull(this.#b().ggml_sqr(this.#c(), a), "sqr");
  }
  sqrt(a: Tensor): Tensor {
    return nonNull(this.#b().ggml_sqrt(this.#c(), a), "sqrt");
  }
  /** Sum of all elements: [1]. */
  sum(a: Tensor): Tensor {
    return nonNull(this.#b().ggml_sum(this.#c(), a), "sum");
  }
  div(a: Tensor, b: Tensor): Tensor {
    return nonNull(this.#b().ggml_div(this.#c(), a, b), "div");
  }
  clamp(a: Tensor, min: number, max: number): Tensor {
    return nonNull(this.#b().ggml_clamp(this.#c(), a, min, max), "clamp");
  }
  silu(a: Tensor): Tensor {
    return nonNull(this.#b().ggml_silu(this.#c(), a), "silu");
  }
  /** `a^T · b` over the first dimension: a [k, m], b [k, n] → [m, n] (batched over dims 2–3). */
  matmul(a: Tensor, b: Tensor): Tensor {
    return nonNull(this.#b().ggml_mul_mat(this.#c(), a, b), "mul_mat");
  }
  cont(a: Tensor): Tensor {
    return nonNull(this.#b().ggml_cont(this.#c(), a), "cont");
  }
  permute(a: Tensor, p0: number, p1: number, p2: number, p3: number): Tensor {
    return nonNull(this.#b().ggml_permute(this.#c(), a, p0, p1, p2, p3), "permute");
  }
  reshape2d(a: Tensor, n0: number, n1: number): Tensor {
    return nonNull(this.#b().ggml_reshape_2d(this.#c(), a, BigInt(n0), BigInt(n1)), "reshape_2d");
  }
  reshape4d(a: Tensor, n0: number, n1: number, n2: number, n3: number): Tensor {
    return nonNull(
      this.#b().ggml_reshape_4d(this.#c(), a, BigInt(n0), BigInt(n1), BigInt(n2), BigInt(n3)),
      "reshape_4d",
    );
  }
  /** A 2-D view: `n1` rows of `n0` elements, rows `nb1` bytes apart, from byte `offset`. */
  view2d(a: Tensor, n0: number, n1: number, nb1: number, offset: number): Tensor {
    return nonNull(
      this.#b().ggml_view_2d(this.#c(), a, BigInt(n0), BigInt(n1), BigInt(nb1), BigInt(offset)),
      "view_2d",
    );
  }
  view4d(a: Tensor, ne: number[], nb: [number, number, number], offset: number): Tensor {
    return nonNull(
      this.#b().ggml_view_4d(
        this.#c(),
        a,
        BigInt(ne[0]),
        BigInt(ne[1]),
        BigInt(ne[2]),
        BigInt(ne[3]),
        BigInt(nb[0]),
        BigInt(nb[1]),
        BigInt(nb[2]),
        BigInt(offset),
      ),
      "view_4d",
    );
  }
  /** Rotary position embedding (normal mode) over `nDims` of `a` [hd, heads, tokens, …]. */
  rope(a: Tensor, pos: Tensor, nDims: number, base: number): Tensor {
    return nonNull(
      this.#b().ggml_rope_ext(this.#c(), a, pos, null, nDims, 0, 0, base, 1, 0, 1, 0, 0),
      "rope_ext",
    );
  }
  softmaxMasked(a: Tensor, mask: Tensor, scale: number): Tensor {
    return nonNull(this.#b().ggml_soft_max_ext(this.#c(), a, mask, scale, 0), "soft_max_ext");
  }
  crossEntropy(logits: Tensor, labels: Tensor): Tensor {
    return nonNull(this.#b().ggml_cross_entropy_loss(this.#c(), logits, labels), "cross_entropy");
  }
  adamw(p: Tensor, grad: Tensor, m: Tensor, v: Tensor, params: Tensor): Tensor {
    return nonNull(this.#b().ggml_opt_step_adamw(this.#c(), p, grad, m, v, params), "adamw");
  }
}

/** A backend buffer holding the data of every tensor of a context. */
export class Buffer {
  readonly ptr: Handle;
  #freed = false;
  constructor(ctx: Context, backend: Handle) {
    this.ptr = nonNull(
      native().base.ggml_backend_alloc_ctx_tensors(ctx.ptr, backend),
      "ggml_backend_alloc_ctx_tensors",
    );
  }
  /** Sets every byte of the buffer to `value`. */
  clear(value = 0): void {
    native().base.ggml_backend_buffer_clear(this.ptr, value);
  }
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    native().base.ggml_backend_buffer_free(this.ptr);
  }
}

/** Copies a typed array into a tensor's data. */
export function upload(t: Tensor, data: Float32Array | Int32Array | BigInt64Array): void {
  native().base.ggml_backend_tensor_set(
    t,
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    0n,
    BigInt(data.byteLength),
  );
}

/** Copies `n` floats (default: the whole tensor) out of an F32 tensor. */
export function downloadF32(t: Tensor, n = numel(t)): Float32Array {
  const out = new Float32Array(n);
  native().base.ggml_backend_tensor_get(t, new Uint8Array(out.buffer), 0n, BigInt(n * 4));
  return out;
}

/** The CPU backend: one per process, with the configured thread count. */
let cpuBackend: Handle | undefined;

/** The shared CPU backend. */
export function backend(): Handle {
  if (!cpuBackend) {
    const n = native();
    cpuBackend = nonNull(n.cpu.ggml_backend_cpu_init(), "ggml_backend_cpu_init");
    n.cpu.ggml_backend_cpu_set_n_threads(cpuBackend, n.threads);
  }
  return cpuBackend;
}

/** A computation graph over one context, allocated by a graph allocator and run on the CPU. */
export class Graph {
  readonly ptr: Handle;
  constructor(readonly ctx: Context, size: number, grads: boolean) {
    this.ptr = nonNull(
      native().base.ggml_new_graph_custom(ctx.ptr, BigInt(size), grads),
      "ggml_new_graph_custom",
    );
  }
  expand(t: Tensor): void {
    native().base.ggml_build_forward_expand(this.ptr, t);
  }
  /** Adds the backward pass of every `ggml_set_loss` tensor to the graph. */
  expandBackward(): void {
    native().base.ggml_build_backward_expand(this.ctx.ptr, this.ptr, null);
  }
  grad(t: Tensor): Tensor | null {
    return native().base.ggml_graph_get_grad(this.ptr, t);
  }
  gradAcc(t: Tensor): Tensor | null {
    return native().base.ggml_graph_get_grad_acc(this.ptr, t);
  }
}

/** A graph allocator (reuses one compute buffer across graphs). */
export class Allocator {
  readonly ptr: Handle;
  #freed = false;
  constructor() {
    const b = native().base;
    this.ptr = nonNull(
      b.ggml_gallocr_new(b.ggml_backend_get_default_buffer_type(backend())),
      "ggml_gallocr_new",
    );
  }
  alloc(g: Graph): void {
    if (!native().base.ggml_gallocr_alloc_graph(this.ptr, g.ptr)) {
      throw new Error("ggml: could not allocate the compute graph");
    }
  }
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    native().base.ggml_gallocr_free(this.ptr);
  }
}

/** Marks a tensor as a graph input/output/parameter/loss. */
export const mark = {
  input: (t: Tensor) => native().base.ggml_set_input(t),
  output: (t: Tensor) => native().base.ggml_set_output(t),
  param: (t: Tensor) => native().base.ggml_set_param(t),
  loss: (t: Tensor) => native().base.ggml_set_loss(t),
};

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs a graph on the CPU backend off the JavaScript thread (so a server stays responsive) with
 * `threads` threads (default: the configured count); computations are serialised, one at a time
 * per process.
 */
export function compute(g: Graph, threads = native().threads): Promise<void> {
  const run = queue.then(async () => {
    native().cpu.ggml_backend_cpu_set_n_threads(backend(), threads);
    const status = await native().base.ggml_backend_graph_compute_async_thread(backend(), g.ptr);
    if (status !== 0) throw new Error(`ggml: graph compute failed (status ${status})`);
  });
  queue = run.catch(() => {});
  return run;
}
