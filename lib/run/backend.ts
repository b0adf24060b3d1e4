/**
 * The backend a run talks to: the local CLOVA Studio emulator (default) or CLOVA Studio itself,
 * with the API generation its credentials chose.
 *
 * @module
 */
import {
  type ApiGeneration,
  type BackendKind,
  GENERATION_PROFILES,
  generationFor,
} from "../backends/mod.ts";
import type {
  ClovaClientOptions,
  ClovaStudioClient,
  ObjectStorageSettings,
} from "../backends/clova/mod.ts";
import type { Emulator } from "../backends/emulator/mod.ts";
import { PipelineError } from "./folder.ts";
import type { BackendInfo } from "./schema.ts";

/** Where the run talks to: the local emulator (default) or CLOVA Studio. */
export interface Backend {
  info: BackendInfo;
  /** The API generation the credentials chose (see `lib/backends/generation.ts`). */
  generation: ApiGeneration;
  client: ClovaStudioClient;
  /** Client options for providers (built fresh with retries left to the batch runner). */
  clientOptions: ClovaClientOptions;
  /** Where the current API's tuning sets are uploaded, or which variables are missing. */
  objectStorage: ObjectStorageSettings;
  /** Polling for tuning tasks (fast on the emulator, patient on the service). */
  poll: { intervalMs: number; maxIntervalMs: number };
  close(): Promise<void>;
}

/**
 * Which backend {@link openBackend} should use: `auto` is CLOVA Studio when credentials are set,
 * else the emulator; `local` is the emulator serving the local neural models (`local-1m`,
 * `local-250k`), which really LoRA-tune and generate on the CPU.
 */
export type BackendChoice = "auto" | BackendKind;

/** The backend a choice names: `auto` is CLOVA Studio when credentials are set, else the emulator. */
export async function resolveBackendKind(
  choice: BackendChoice = "auto",
  env?: Record<string, string | undefined>,
): Promise<BackendKind> {
  if (choice !== "auto") return choice;
  const { clovaOptionsFromEnv } = await import("../backends/clova/mod.ts");
  return clovaOptionsFromEnv(env) ? "clova-studio" : "emulator";
}

/** Bucket of the embedded emulator's object store. */
const EMULATOR_BUCKET = "reproduce-datasets";

const GENERATION_NAMES: Record<ApiGeneration, string> = {
  current: "current API: /tuning/v2/tasks, datasets from NCP Object Storage",
  "legacy-2024": "legacy-2024 API: /v2/tasks, multipart upload, as the cookbook",
};

/**
 * Opens the backend. `auto` uses CLOVA Studio when credentials are in the environment (or `.env`)
 * and otherwise starts the local emulator on 127.0.0.1 with a throwaway key (never printed). The
 * credentials choose the API generation: an API key (or the older key pair) the `current` one,
 * a client id/secret the cookbook's `legacy-2024` one. The embedded emulator speaks the current
 * generation in its `cookbook-2024` compatibility, so the cookbook's 50-row set can be tuned
 * offline; it keeps its tasks under `stateDir`, so a resumed run finds them.
 */
export async function openBackend(options: {
  choice?: BackendChoice;
  stateDir: string;
  env?: Record<string, string | undefined>;
  /** Tuning-poll interval override (default: 100 ms on the emulator, 10 s on the service). */
  poll?: Backend["poll"];
  /**
   * What the run's items and groups are called in English, for the emulator's note on what its
   * reference learner counts (default: country and continent).
   */
  terms?: { itemEn: string; groupEn: string };
}): Promise<Backend> {
  const choice = options.choice ?? "auto";
  // The client and the emulator load only when a backend is opened, so reading a run folder
  // (and every command's --help) does without them.
  const { clovaOptionsFromEnv, ClovaStudioClient, objectStorageSettings } = await import(
    "../backends/clova/mod.ts"
  );
  const fromEnv = choice === "emulator" || choice === "local"
    ? undefined
    : clovaOptionsFromEnv(options.env);
  if (choice === "clova-studio" && !fromEnv) {
    throw new PipelineError(
      "no CLOVA Studio credentials: set CLOVA_STUDIO_API_KEY (or the legacy key pair, or " +
        "CLOVA_STUDIO_CLIENT_ID and CLOVA_STUDIO_CLIENT_SECRET) in the environment or .env",
    );
  }
  if (fromEnv) {
    const generation = fromEnv.generation ?? generationFor(fromEnv.auth.kind);
    return {
      info: {
        kind: "clova-studio",
        name: `CLOVA Studio (${fromEnv.auth.kind} auth, ${GENERATION_NAMES[generation]})`,
        url: fromEnv.baseUrl,
        generation,
        minRows: GENERATION_PROFILES[generation].minRows,
      },
      generation,
      client: new ClovaStudioClient(fromEnv),
      clientOptions: fromEnv,
      objectStorage: objectStorageSettings(options.env),
      poll: options.poll ?? { intervalMs: 10_000, maxIntervalMs: 120_000 },
      close: () => Promise.resolve(),
    };
  }
  const apiKey = `nv-local-${crypto.randomUUID()}`;
  await Deno.mkdir(options.stateDir, { recursive: true });
  const { startEmulator } = await import("../backends/emulator/mod.ts");
  const emulator: Emulator = await startEmulator({
    // The emulator's own seed (task ids, answers to a request without a seed) is fixed: the run's
    // seed draws the datasets, and every request carries its own sampling seed.
    seed: 1,
    credentials: { apiKeys: [apiKey] },
    // The cookbook's 50-row set is below today's 100-row minimum; the 2024 dataset rules let
    // the offline run tune it (said in the report).
    compat: "cookbook-2024",
    // The service's per-account rate limits would stretch the offline run to an hour; the batch
    // runner's own --rpm limit still applies when set.
    rateLimits: false,
    // Emulated training time: 2,500 steps a second, so the largest task (10,000 rows × 4 epochs
    // in batches of 16: 2,500 steps) runs for a second; nothing is computed while a task runs.
    trainingSpeed: OFFLINE_TRAINING_SPEED,
    stateDir: options.stateDir,
    quiet: true,
    localModels: choice === "local",
  });
  const clientOptions: ClovaClientOptions = {
    baseUrl: emulator.url,
    auth: { kind: "api-key", apiKey },
    generation: "current",
  };
  const objectStorage = objectStorageSettings({
    NCP_OBJECT_STORAGE_ENDPOINT: emulator.objectStorageUrl,
    NCP_OBJECT_STORAGE_BUCKET: EMULATOR_BUCKET,
    NCP_OBJECT_STORAGE_ACCESS_KEY: `local-${crypto.randomUUID()}`,
    NCP_OBJECT_STORAGE_SECRET_KEY: `local-${crypto.randomUUID()}`,
  });
  const local = choice === "local";
  return {
    info: {
      kind: local ? "local" : "emulator",
      name: local
        ? "local CLOVA Studio emulator — local neural models, LoRA on the CPU " +
          "(current API, cookbook-2024 dataset rules)"
        : "local CLOVA Studio emulator — reference learner " +
          "(current API, cookbook-2024 dataset rules)",
      url: emulator.url,
      note: local
        ? "answers come from small llama-style models pretrained in this project (local-1m " +
          "≈ 0.98M and local-250k ≈ 0.25M parameters, standing in for HCX-003 and " +
          "HCX-DASH-001) and LoRA-tuned here on the CPU; not HyperCLOVA X"
        : "answers come from the emulator's reference learner (counts of " +
          `(${options.terms?.itemEn ?? "country"}, ${options.terms?.groupEn ?? "continent"}) ` +
          "pairs in the tuning rows), not from HyperCLOVA X",
      generation: "current",
      compat: "cookbook-2024",
      minRows: 0,
    },
    generation: "current",
    client: new ClovaStudioClient(clientOptions),
    clientOptions,
    objectStorage,
    poll: options.poll ??
      (local ? { intervalMs: 1000, maxIntervalMs: 2000 } : { intervalMs: 100, maxIntervalMs: 200 }),
    close: () => emulator.close(),
  };
}

/** Emulated training steps per second of the offline run's emulator (see {@link openBackend}). */
const OFFLINE_TRAINING_SPEED = 2500;

/**
 * Throws, before anything is created, when the backend cannot take tuning data: the current API
 * reads it from NCP Object Storage, so the bucket and its keys must be set.
 */
export function checkTuningStorage(backend: Backend, chosenByCredentials = false): void {
  if (backend.generation !== "current" || backend.objectStorage.ok) return;
  throw new PipelineError(
    "the current CLOVA Studio API reads tuning data from NCP Object Storage; set " +
      `${backend.objectStorage.missing.join(", ")} (and optionally NCP_OBJECT_STORAGE_ENDPOINT, ` +
      "NCP_OBJECT_STORAGE_PREFIX) in the environment or .env. Nothing was created." +
      (chosenByCredentials
        ? " CLOVA Studio was chosen because its credentials are set; to run offline instead: " +
          "deno task reproduce --backend emulator"
        : ""),
  );
}
