/**
 * The base models the emulator serves, with the reference's limits (§4), default test-key rate
 * limits (§5, values as of 2025-07-17) and tunability (§2).
 *
 * @module
 */

/** One base model. */
export interface ModelSpec {
  name: string;
  /** Chat API generation that serves it by name (`/v1/chat-completions` or `/v3/…`). */
  api: "v1" | "v3";
  maxInputTokens: number;
  maxOutputTokens: number;
  /** Whether tuning tasks may use it as their base. */
  tunable: boolean;
  /** Emulator's stand-in for the legacy `baseModelId` field. */
  baseModelId: number;
  qpm: number;
  tpm: number;
  /**
   * Who answers and tunes it: the reference learner, or (for the local neural models) the
   * local engine, served only when the emulator runs with `localModels`.
   */
  engine?: "local";
}

/** Base models by name. */
export const MODELS: Readonly<Record<string, ModelSpec>> = {
  "HCX-003": {
    name: "HCX-003",
    api: "v1",
    maxInputTokens: 7600,
    maxOutputTokens: 4096,
    tunable: true,
    baseModelId: 42,
    qpm: 200,
    tpm: 30_000,
  },
  "HCX-DASH-001": {
    name: "HCX-DASH-001",
    api: "v1",
    maxInputTokens: 3500,
    maxOutputTokens: 4096,
    tunable: true,
    baseModelId: 43,
    qpm: 200,
    tpm: 30_000,
  },
  "HCX-005": {
    name: "HCX-005",
    api: "v3",
    maxInputTokens: 128_000,
    maxOutputTokens: 4096,
    tunable: true,
    baseModelId: 44,
    qpm: 60,
    tpm: 60_000,
  },
  "HCX-DASH-002": {
    name: "HCX-DASH-002",
    api: "v3",
    maxInputTokens: 32_000,
    maxOutputTokens: 4096,
    tunable: true,
    baseModelId: 45,
    qpm: 90,
    tpm: 80_000,
  },
  "HCX-007": {
    name: "HCX-007",
    api: "v3",
    maxInputTokens: 128_000,
    maxOutputTokens: 32_768,
    tunable: false,
    baseModelId: 46,
    qpm: 60,
    tpm: 60_000,
  },
  // The local neural models (lib/backends/local/): served only with `localModels`; limits are the context
  // (prompt and answer together, in the local tokenizer's tokens).
  "local-1m": {
    name: "local-1m",
    api: "v1",
    maxInputTokens: 768,
    maxOutputTokens: 512,
    tunable: true,
    baseModelId: 101,
    qpm: 100_000,
    tpm: 100_000_000,
    engine: "local",
  },
  "local-250k": {
    name: "local-250k",
    api: "v1",
    maxInputTokens: 768,
    maxOutputTokens: 512,
    tunable: true,
    baseModelId: 102,
    qpm: 100_000,
    tpm: 100_000_000,
    engine: "local",
  },
};

/** The model table entry, when this emulator serves the model (local ones only with `localModels`). */
export function servedModel(name: string, localModels: boolean): ModelSpec | undefined {
  const spec = MODELS[name];
  return spec && (spec.engine !== "local" || localModels) ? spec : undefined;
}

/** Default per-model rate limits (test key / web, reference §5). */
export function defaultRateLimits(): Record<string, { qpm: number; tpm: number }> {
  return Object.fromEntries(
    Object.values(MODELS).map((m) => [m.name, { qpm: m.qpm, tpm: m.tpm }]),
  );
}
