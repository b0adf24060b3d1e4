/**
 * The backend a run talks to: the local CLOVA Studio emulator (default) or CLOVA Studio itself.
 *
 * @module
 */
import { type ClovaClientOptions, clovaOptionsFromEnv, ClovaStudioClient } from "../clova/mod.ts";
import { type Emulator, startEmulator } from "../emulator/mod.ts";
import type { BackendInfo } from "../report.ts";
import { PipelineError } from "./run.ts";

/** Where the run talks to: the local emulator (default) or CLOVA Studio. */
export interface Backend {
  info: BackendInfo;
  client: ClovaStudioClient;
  /** Client options for providers (built fresh with retries left to the batch runner). */
  clientOptions: ClovaClientOptions;
  /** Polling for tuning tasks (fast on the emulator, patient on the service). */
  poll: { intervalMs: number; maxIntervalMs: number };
  close(): Promise<void>;
}

/** Which backend {@link openBackend} should use. */
export type BackendChoice = "auto" | "emulator" | "clova-studio";

/**
 * Opens the backend. `auto` uses CLOVA Studio when credentials are in the environment (or `.env`)
 * and otherwise starts the local emulator on 127.0.0.1 with a throwaway key (never printed).
 * The emulator keeps its tasks under `stateDir`, so a resumed run finds them.
 */
export async function openBackend(options: {
  choice?: BackendChoice;
  stateDir: string;
  env?: Record<string, string | undefined>;
  emulatorSeed?: number;
  /** Tuning-poll interval override (default: 100 ms on the emulator, 10 s on the service). */
  poll?: Backend["poll"];
}): Promise<Backend> {
  const choice = options.choice ?? "auto";
  const fromEnv = choice === "emulator" ? undefined : clovaOptionsFromEnv(options.env);
  if (choice === "clova-studio" && !fromEnv) {
    throw new PipelineError(
      "no CLOVA Studio credentials: set CLOVA_STUDIO_API_KEY (or the legacy key pair, or " +
        "CLOVA_STUDIO_CLIENT_ID and CLOVA_STUDIO_CLIENT_SECRET) in the environment or .env",
    );
  }
  if (fromEnv) {
    return {
      info: {
        kind: "clova-studio",
        name: `CLOVA Studio (${fromEnv.auth.kind} auth, ${
          fromEnv.tuningApi ?? "current"
        } tuning API)`,
        url: fromEnv.baseUrl,
      },
      client: new ClovaStudioClient(fromEnv),
      clientOptions: fromEnv,
      poll: options.poll ?? { intervalMs: 10_000, maxIntervalMs: 120_000 },
      close: () => Promise.resolve(),
    };
  }
  const apiKey = `nv-local-${crypto.randomUUID()}`;
  await Deno.mkdir(options.stateDir, { recursive: true });
  const emulator: Emulator = await startEmulator({
    seed: options.emulatorSeed ?? 1,
    credentials: { apiKeys: [apiKey] },
    // The service's per-account rate limits would stretch the offline run to an hour; the batch
    // runner's own --rpm limit still applies when set.
    rateLimits: false,
    stateDir: options.stateDir,
    quiet: true,
  });
  const clientOptions: ClovaClientOptions = {
    baseUrl: emulator.url,
    auth: { kind: "api-key", apiKey },
    tuningApi: "legacy",
  };
  return {
    info: {
      kind: "emulator",
      name: "local CLOVA Studio emulator — reference learner",
      url: emulator.url,
      note: "answers come from the emulator's reference learner (counts of (country, continent) " +
        "pairs in the tuning rows), not from HyperCLOVA X",
    },
    client: new ClovaStudioClient(clientOptions),
    clientOptions,
    poll: options.poll ?? { intervalMs: 100, maxIntervalMs: 500 },
    close: () => emulator.close(),
  };
}
