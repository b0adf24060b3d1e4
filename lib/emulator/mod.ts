/**
 * A local CLOVA Studio emulator: a real HTTP server on 127.0.0.1 speaking the documented API,
 * answered by the transparent **reference learner** (`learner.ts`) and counted by the **emulator
 * tokenizer v1** (`tokenizer.ts`). Every rule it enforces, with its public source, is in
 * `rules.ts`.
 *
 * Strictness: by default the rules of the current docs (`compat: "strict"`);
 * `compat: "cookbook-2024"` relaxes exactly the dataset rules the cookbook's 2024 run did not
 * meet (two columns `Text,Completion`, fewer than 100 rows, no byte-order mark).
 *
 * Surface (every native route also under `/testapp` and `/serviceapp`):
 * - `GET /v1/auth/token[?existingToken=true]` (Basic client id:secret) — the 2024 token flow;
 * - `POST|GET /v2/tasks`, `GET|DELETE /v2/tasks/{id}` — 2024 (cookbook) tuning, multipart;
 * - `POST|GET /tuning/v2/tasks`, `GET|DELETE /tuning/v2/tasks/{id}` — current tuning, JSON with
 *   the dataset in Object Storage;
 * - `POST /v1/chat-completions/{model}`, `POST /v1|v2/tasks/{id}/chat-completions`,
 *   `POST /v3/chat-completions/{model}`, `POST /v3/tasks/{id}/chat-completions` — plain or SSE
 *   (`Accept: text/event-stream`);
 * - `POST /v1|v3/api-tools/chat-tokenize/{model}`;
 * - `POST /v1/openai/chat/completions` (model = base name or a task's `ft:tuning-…` id),
 *   `GET /v1/openai/models`;
 * - S3 subset at `<url>/objectstorage` (`objectStorageUrl`), see `objectStore.ts`;
 * - `GET /health` (no auth).
 *
 * The `X-NCP-CLOVASTUDIO-REQUEST-ID` request header is echoed (one is generated if absent).
 * With `stateDir`, tasks persist (including the learner's counts and per-step losses, never
 * Object Storage keys); the object store and legacy access tokens live in memory only.
 *
 * @example
 * ```ts
 * const emu = await startEmulator({ credentials: { apiKeys: ["nv-test"] } });
 * const res = await fetch(`${emu.url}/v1/chat-completions/HCX-003`, {
 *   method: "POST",
 *   headers: { authorization: "Bearer nv-test", "content-type": "application/json" },
 *   body: JSON.stringify({ messages: [{ role: "user", content: "목록…\n\n독일, 일본" }] }),
 * });
 * await emu.close();
 * ```
 *
 * @module
 */
import { Authenticator, type EmulatorCredentials } from "./auth.ts";
import type { EmulatorState } from "./context.ts";
import { FaultInjector, type FaultOptions, type LatencyOptions } from "./faults.ts";
import { defaultRateLimits } from "./models.ts";
import { ObjectStore } from "./objectStore.ts";
import { type ModelLimit, RateLimiter } from "./ratelimit.ts";
import { type Compat, datasetRules } from "./rules.ts";
import { createHandler } from "./server.ts";
import { DEFAULT_MAX_DATASET_BYTES } from "./dataset.ts";
import { type StoredTask, TaskStore } from "./tasks.ts";

export type { EmulatorCredentials } from "./auth.ts";
export type { FaultOptions, LatencyOptions } from "./faults.ts";
export { LEARNER_NAME } from "./learner.ts";
export { TOKENIZER_NAME } from "./tokenizer.ts";
export { MODELS } from "./models.ts";
export { type Compat, type EmulatorRule, RULES } from "./rules.ts";
export type { StoredTask } from "./tasks.ts";

/** Options for {@link startEmulator}. */
export interface EmulatorOptions {
  /** Port to bind (0 = a free port; default 0). */
  port?: number;
  /** Interface to bind (default 127.0.0.1). */
  hostname?: string;
  /** Seed for task ids, tie-breaks and answer sampling (default 1). */
  seed?: number;
  /** Accepted credentials. */
  credentials: EmulatorCredentials;
  /** Emulated training steps per real second (default 1000: a 10,000-row, 4-epoch task ≈ 2.5 s). */
  trainingSpeed?: number;
  /** Time a new task stays in `WAIT` (ms, default 100). */
  waitMs?: number;
  /** Rows per training step (default 16; totalTrainSteps = ceil(rows / batchSize) × epochs). */
  batchSize?: number;
  /** Largest accepted dataset, multipart create and object PUT (bytes, default 100 MiB). */
  maxDatasetBytes?: number;
  /** `strict` (default: the current docs) or `cookbook-2024` (see the module notes). */
  compat?: Compat;
  /**
   * Called after a new task is stored and before the create is answered; the answer waits for
   * the returned promise (tests use it to stop a client inside that window).
   */
  onTaskStored?: (task: StoredTask) => void | Promise<void>;
  /**
   * Per-model QPM/TPM (sliding 60 s). Default: the reference's test-key table; a record
   * overrides the listed models; `false` disables rate limiting.
   */
  rateLimits?: false | Record<string, ModelLimit>;
  /** Seeded fault shares (see `faults.ts`); the fault seed defaults to `seed`. */
  faults?: FaultOptions;
  /** Added latency per API request. */
  latency?: LatencyOptions;
  /** Directory where tasks (and their learned counts) persist across restarts. */
  stateDir?: string;
  /** Log one line per request to stderr when false (default true). */
  quiet?: boolean;
}

/** A running emulator. */
export interface Emulator {
  /** Base URL, e.g. `http://127.0.0.1:54321`. */
  url: string;
  port: number;
  /** S3 endpoint of the built-in object store (`<url>/objectstorage`, path-style). */
  objectStorageUrl: string;
  /** The strictness it runs with. */
  compat: Compat;
  /** Stops the server (ends stalls and pending waits). */
  close(): Promise<void>;
  /** Counters: requests, http<status>, faults, chatCompletions, tasksCreated, … */
  stats(): Record<string, number>;
  /** Expires every issued legacy access token now (to exercise `40103` refresh). */
  expireTokens(): void;
  /** Puts an object straight into the object store (no HTTP). */
  putObject(bucket: string, key: string, bytes: Uint8Array): void;
}

/** Starts the emulator; resolves once it listens. */
export async function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  const seed = opts.seed ?? 1;
  if (!((opts.trainingSpeed ?? 1000) > 0)) throw new RangeError("trainingSpeed must be > 0");
  const tasks = new TaskStore({
    seed,
    trainingSpeed: opts.trainingSpeed ?? 1000,
    waitMs: opts.waitMs ?? 100,
    batchSize: opts.batchSize ?? 16,
    stateDir: opts.stateDir,
    maxDatasetBytes: opts.maxDatasetBytes,
    datasetRules: datasetRules(opts.compat ?? "strict"),
  });
  await tasks.load();
  const limits = opts.rateLimits === false
    ? undefined
    : { ...defaultRateLimits(), ...(opts.rateLimits ?? {}) };
  const state: EmulatorState = {
    seed,
    auth: new Authenticator(opts.credentials),
    tasks,
    objects: new ObjectStore(opts.maxDatasetBytes ?? DEFAULT_MAX_DATASET_BYTES),
    compat: opts.compat ?? "strict",
    maxDatasetBytes: opts.maxDatasetBytes ?? DEFAULT_MAX_DATASET_BYTES,
    onTaskStored: opts.onTaskStored,
    limiter: limits ? new RateLimiter(limits) : undefined,
    stats: new Map(),
  };
  const closing = new AbortController();
  const handler = createHandler(state, {
    faults: new FaultInjector(opts.faults, opts.latency, seed),
    quiet: opts.quiet ?? true,
    closing: closing.signal,
  });
  const server = Deno.serve({
    port: opts.port ?? 0,
    hostname: opts.hostname ?? "127.0.0.1",
    onListen() {},
  }, handler);
  const port = server.addr.port;
  const host = server.addr.hostname.includes(":")
    ? `[${server.addr.hostname}]`
    : server.addr.hostname;
  const url = `http://${host}:${port}`;
  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    objectStorageUrl: `${url}/objectstorage`,
    compat: state.compat,
    close() {
      closed ??= (async () => {
        closing.abort();
        await server.shutdown();
      })();
      return closed;
    },
    stats: () => Object.fromEntries(state.stats),
    expireTokens: () => state.auth.expireTokens(),
    putObject: (bucket, key, bytes) => void state.objects.write(bucket, key, bytes),
  };
}
