/**
 * Loads the prebuilt ggml CPU libraries that the pinned npm package `@node-llama-cpp/linux-x64`
 * ships (`bins/linux-x64/libggml-base.so` and one `libggml-cpu-<variant>.so` per instruction-set
 * level) through `Deno.dlopen`, and exposes the C functions the local model uses.
 *
 * The CPU variant is chosen the way ggml's own loader chooses it: every variant exports
 * `ggml_backend_score()`, which returns 0 when this CPU lacks a feature the variant was built for
 * and a higher number the more features it uses; the highest score wins. Anything missing — the
 * package, a shared library it links against (`libstdc++.so.6`, glibc), or a CPU that no variant
 * supports — is a {@link NativeLibraryError} that names what to install.
 *
 * `LOCAL_MODEL_LIB_DIR` overrides the library folder; `LOCAL_MODEL_THREADS` the thread count
 * (default: the number of logical CPUs).
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The npm package (pinned in deno.json) that ships the libraries. */
export const NATIVE_PACKAGE = "@node-llama-cpp/linux-x64@3.22.1";

/** A native library that cannot be loaded, with what to install to fix it. */
export class NativeLibraryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NativeLibraryError";
  }
}

const P = "pointer" as const;
const I64 = "i64" as const;
const I32 = "i32" as const;
const F32 = "f32" as const;
const U = "usize" as const;

/** The ggml-base symbols used (ggml graph API, backend buffers, graph allocator, GGUF). */
const BASE_SYMBOLS = {
  ggml_init: { parameters: [{ struct: [U, P, "bool"] }], result: P },
  ggml_free: { parameters: [P], result: "void" },
  ggml_tensor_overhead: { parameters: [], result: U },
  ggml_graph_overhead_custom: { parameters: [U, "bool"], result: U },
  ggml_new_tensor_1d: { parameters: [P, I32, I64], result: P },
  ggml_new_tensor_2d: { parameters: [P, I32, I64, I64], result: P },
  ggml_new_tensor_3d: { parameters: [P, I32, I64, I64, I64], result: P },
  ggml_new_tensor_4d: { parameters: [P, I32, I64, I64, I64, I64], result: P },
  ggml_set_name: { parameters: [P, "buffer"], result: P },
  ggml_get_name: { parameters: [P], result: P },
  ggml_set_input: { parameters: [P], result: "void" },
  ggml_set_output: { parameters: [P], result: "void" },
  ggml_set_param: { parameters: [P], result: "void" },
  ggml_set_loss: { parameters: [P], result: "void" },
  ggml_nbytes: { parameters: [P], result: U },
  ggml_get_data: { parameters: [P], result: P },
  ggml_get_tensor: { parameters: [P, "buffer"], result: P },
  ggml_get_first_tensor: { parameters: [P], result: P },
  ggml_get_next_tensor: { parameters: [P, P], result: P },
  ggml_get_rows: { parameters: [P, P, P], result: P },
  ggml_set_rows: { parameters: [P, P, P, P], result: P },
  ggml_rms_norm: { parameters: [P, P, F32], result: P },
  ggml_mul: { parameters: [P, P, P], result: P },
  ggml_add: { parameters: [P, P, P], result: P },
  ggml_scale: { parameters: [P, P, F32], result: P },
  ggml_silu: { parameters: [P, P], result: P },
  ggml_sqr: { parameters: [P, P], result: P },
  ggml_sqrt: { parameters: [P, P], result: P },
  ggml_sum: { parameters: [P, P], result: P },
  ggml_div: { parameters: [P, P, P], result: P },
  ggml_clamp: { parameters: [P, P, F32, F32], result: P },
  ggml_mul_mat: { parameters: [P, P, P], result: P },
  ggml_cont: { parameters: [P, P], result: P },
  ggml_permute: { parameters: [P, P, I32, I32, I32, I32], result: P },
  ggml_reshape_2d: { parameters: [P, P, I64, I64], result: P },
  ggml_reshape_4d: { parameters: [P, P, I64, I64, I64, I64], result: P },
  ggml_view_2d: { parameters: [P, P, I64, I64, U, U], result: P },
  ggml_view_3d: { parameters: [P, P, I64, I64, I64, U, U, U], result: P },
  ggml_view_4d: { parameters: [P, P, I64, I64, I64, I64, U, U, U, U], result: P },
  ggml_rope_ext: {
    parameters: [P, P, P, P, I32, I32, I32, F32, F32, F32, F32, F32, F32],
    result: P,
  },
  ggml_soft_max_ext: { parameters: [P, P, P, F32, F32], result: P },
  ggml_cross_entropy_loss: { parameters: [P, P, P], result: P },
  ggml_opt_step_adamw: { parameters: [P, P, P, P, P, P], result: P },
  ggml_new_graph_custom: { parameters: [P, U, "bool"], result: P },
  ggml_build_forward_expand: { parameters: [P, P], result: "void" },
  ggml_build_backward_expand: { parameters: [P, P, P], result: "void" },
  ggml_graph_get_grad: { parameters: [P, P], result: P },
  ggml_graph_get_grad_acc: { parameters: [P, P], result: P },
  ggml_backend_alloc_ctx_tensors: { parameters: [P, P], result: P },
  ggml_backend_buffer_free: { parameters: [P], result: "void" },
  ggml_backend_buffer_clear: { parameters: [P, "u8"], result: "void" },
  ggml_backend_tensor_set: { parameters: [P, "buffer", U, U], result: "void" },
  ggml_backend_tensor_get: { parameters: [P, "buffer", U, U], result: "void" },
  ggml_backend_get_default_buffer_type: { parameters: [P], result: P },
  ggml_backend_graph_compute: { parameters: [P, P], result: I32 },
  ggml_backend_graph_compute_async_thread: {
    name: "ggml_backend_graph_compute",
    parameters: [P, P],
    result: I32,
    nonblocking: true,
  },
  ggml_backend_free: { parameters: [P], result: "void" },
  ggml_gallocr_new: { parameters: [P], result: P },
  ggml_gallocr_free: { parameters: [P], result: "void" },
  ggml_gallocr_alloc_graph: { parameters: [P, P], result: "bool" },
  gguf_init_empty: { parameters: [], result: P },
  gguf_init_from_file: { parameters: ["buffer", { struct: ["bool", P] }], result: P },
  gguf_free: { parameters: [P], result: "void" },
  gguf_get_n_kv: { parameters: [P], result: I64 },
  gguf_get_key: { parameters: [P, I64], result: P },
  gguf_get_kv_type: { parameters: [P, I64], result: I32 },
  gguf_get_arr_type: { parameters: [P, I64], result: I32 },
  gguf_get_val_str: { parameters: [P, I64], result: P },
  gguf_get_val_u32: { parameters: [P, I64], result: "u32" },
  gguf_get_val_f32: { parameters: [P, I64], result: F32 },
  gguf_get_arr_n: { parameters: [P, I64], result: U },
  gguf_get_arr_str: { parameters: [P, I64, U], result: P },
  gguf_set_val_str: { parameters: [P, "buffer", "buffer"], result: "void" },
  gguf_set_val_u32: { parameters: [P, "buffer", "u32"], result: "void" },
  gguf_set_val_f32: { parameters: [P, "buffer", F32], result: "void" },
  gguf_set_arr_str: { parameters: [P, "buffer", "buffer", U], result: "void" },
  gguf_add_tensor: { parameters: [P, P], result: "void" },
  gguf_write_to_file: { parameters: [P, "buffer", "bool"], result: "bool" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The symbols of one CPU variant library. */
const CPU_SYMBOLS = {
  ggml_backend_cpu_init: { parameters: [], result: P },
  ggml_backend_cpu_set_n_threads: { parameters: [P, I32], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

const SCORE_SYMBOLS = {
  ggml_backend_score: { parameters: [], result: I32 },
} as const satisfies Deno.ForeignLibraryInterface;

/** The ggml-base functions, typed. */
export type GgmlBase = Deno.DynamicLibrary<typeof BASE_SYMBOLS>["symbols"];
/** The CPU backend functions, typed. */
export type GgmlCpu = Deno.DynamicLibrary<typeof CPU_SYMBOLS>["symbols"];

/** The loaded libraries: base functions, the chosen CPU variant and a CPU backend. */
export interface Native {
  base: GgmlBase;
  cpu: GgmlCpu;
  /** The chosen CPU variant (`sapphirerapids`, `haswell`, `x64` …). */
  variant: string;
  /** Folder the libraries were loaded from. */
  libDir: string;
  /** Threads the CPU backend uses. */
  threads: number;
}

/** Where the package puts its libraries, resolved through Deno's npm resolution. */
function packageLibDir(): string {
  const override = Deno.env.get("LOCAL_MODEL_LIB_DIR");
  if (override) return override;
  if (Deno.build.os !== "linux" || Deno.build.arch !== "x86_64") {
    throw new NativeLibraryError(
      `the local model's ggml libraries are packaged for linux-x64 only (this is ` +
        `${Deno.build.os}-${Deno.build.arch}); point LOCAL_MODEL_LIB_DIR at a folder with ` +
        `libggml-base.so and libggml-cpu-*.so built for this platform`,
    );
  }
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve("@node-llama-cpp/linux-x64"));
  } catch {
    throw new NativeLibraryError(
      `npm package ${NATIVE_PACKAGE} is not installed: run \`deno install\` in the project root`,
    );
  }
  return join(dirname(entry), "..", "bins", "linux-x64");
}

function explainDlopen(path: string, err: unknown): NativeLibraryError {
  const msg = err instanceof Error ? err.message : String(err);
  const missing = /(lib[\w.+-]+\.so[\w.]*): cannot open shared object file/.exec(msg)?.[1];
  if (missing && !path.endsWith(missing)) {
    const hint = /stdc\+\+|gcc_s/.test(missing)
      ? "install the C++ runtime (Debian/Ubuntu: `apt-get install libstdc++6`)"
      : /^lib(c|m)\.so/.test(missing)
      ? "this needs glibc (Debian/Ubuntu: `apt-get install libc6`)"
      : `install the package that provides ${missing}`;
    return new NativeLibraryError(`cannot load ${path}: ${missing} is missing; ${hint}`);
  }
  if (/No such file/.test(msg)) {
    return new NativeLibraryError(
      `${path} not found: npm package ${NATIVE_PACKAGE} is missing or incomplete; run ` +
        "`deno install` in the project root",
    );
  }
  if (/GLIBC|GLIBCXX|version/.test(msg)) {
    return new NativeLibraryError(
      `cannot load ${path}: ${msg}; it needs glibc ≥ 2.35 and libstdc++ from GCC ≥ 12 ` +
        "(Debian 12 / Ubuntu 22.04 or newer)",
    );
  }
  return new NativeLibraryError(`cannot load ${path}: ${msg}`);
}

function open<S extends Deno.ForeignLibraryInterface>(path: string, symbols: S) {
  try {
    return Deno.dlopen(path, symbols);
  } catch (err) {
    throw explainDlopen(path, err);
  }
}

/** Scores every `libggml-cpu-<variant>.so` in `dir` with its own `ggml_backend_score()`. */
export function scoreCpuVariants(dir: string): { variant: string; score: number }[] {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch {
    throw new NativeLibraryError(
      `${dir} not found: npm package ${NATIVE_PACKAGE} is missing; run \`deno install\``,
    );
  }
  const out: { variant: string; score: number }[] = [];
  for (const name of names.sort()) {
    const m = /^libggml-cpu-(.+)\.so$/.exec(name);
    if (!m) continue;
    const lib = open(join(dir, name), SCORE_SYMBOLS);
    try {
      out.push({ variant: m[1], score: lib.symbols.ggml_backend_score() });
    } finally {
      lib.close();
    }
  }
  return out;
}

let loaded: Native | undefined;

/**
 * Loads the libraries once per process and returns them. Throws {@link NativeLibraryError} with
 * what to install when something is missing.
 */
export function loadNative(): Native {
  if (loaded) return loaded;
  const libDir = packageLibDir();
  const base = open(join(libDir, "libggml-base.so"), BASE_SYMBOLS).symbols;
  const scores = scoreCpuVariants(libDir);
  if (scores.length === 0) {
    throw new NativeLibraryError(
      `no libggml-cpu-*.so in ${libDir}: npm package ${NATIVE_PACKAGE} is incomplete; reinstall ` +
        "it with `deno install --reload`",
    );
  }
  const best = scores.reduce((a, b) => (b.score > a.score ? b : a));
  if (best.score <= 0) {
    throw new NativeLibraryError(
      `this CPU supports none of the ggml CPU builds in ${libDir} ` +
        `(${scores.map((s) => s.variant).join(", ")}); the baseline build needs x86-64 with SSE4.2`,
    );
  }
  const cpu = open(join(libDir, `libggml-cpu-${best.variant}.so`), CPU_SYMBOLS).symbols;
  const env = Number(Deno.env.get("LOCAL_MODEL_THREADS") ?? "");
  const threads = Number.isInteger(env) && env > 0 ? env : navigator.hardwareConcurrency || 1;
  loaded = { base, cpu, variant: best.variant, libDir, threads };
  return loaded;
}
