/**
 * Which models each backend tunes, and a backend's defaults when a run names no models or sizes:
 * one list, read by the run schema, the pipeline and the CLI alike, without loading a backend.
 *
 * @module
 */
import { BASE_MODELS, TUNING_SIZES } from "../cookbook.ts";
import { LOCAL_MODEL_NAMES } from "./localModels.ts";

/** The backends a run can talk to, as `run.json` records them. */
export const BACKEND_KINDS = ["emulator", "local", "clova-studio"] as const;
/** A backend a run talks to: CLOVA Studio, the emulator's reference learner, or local models. */
export type BackendKind = typeof BACKEND_KINDS[number];

/**
 * Base models CLOVA Studio documents as tunable (reference §2). The emulator serves the same
 * ones with its reference learner.
 */
export const CLOVA_TUNABLE_MODELS: readonly string[] = [
  "HCX-003",
  "HCX-DASH-001",
  "HCX-005",
  "HCX-DASH-002",
];

/** The local backend's default tuning sizes: a quick sweep (see the README for its time). */
export const LOCAL_QUICK_SWEEP: readonly number[] = [50, 100, 200, 500];

/** What a backend tunes, and what a run on it tunes when it names nothing. */
export interface BackendModels {
  /** Models a tuning task on this backend may start from. */
  tunable: readonly string[];
  /** Models a run tunes by default. */
  defaultModels: readonly string[];
  /** Tuning sizes a run uses by default. */
  defaultSizes: readonly number[];
}

/** Each backend's models and defaults. */
export const BACKEND_MODELS: Readonly<Record<BackendKind, BackendModels>> = {
  "clova-studio": {
    tunable: CLOVA_TUNABLE_MODELS,
    defaultModels: BASE_MODELS,
    defaultSizes: TUNING_SIZES,
  },
  emulator: {
    tunable: CLOVA_TUNABLE_MODELS,
    defaultModels: BASE_MODELS,
    defaultSizes: TUNING_SIZES,
  },
  local: {
    tunable: LOCAL_MODEL_NAMES,
    defaultModels: LOCAL_MODEL_NAMES,
    defaultSizes: LOCAL_QUICK_SWEEP,
  },
};
