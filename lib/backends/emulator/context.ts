/**
 * Shared per-emulator state handed to the route handlers.
 *
 * @module
 */
import type { Authenticator } from "./auth.ts";
import type { FaultDecision } from "./faults.ts";
import type { ObjectStore } from "./objectStore.ts";
import type { RateLimiter } from "./ratelimit.ts";
import type { Compat } from "./rules.ts";
import type { StoredTask, TaskStore } from "./tasks.ts";
import type { LocalTuner } from "./localTuning.ts";

/** Everything a handler may need. */
export interface EmulatorState {
  seed: number;
  auth: Authenticator;
  tasks: TaskStore;
  objects: ObjectStore;
  limiter: RateLimiter | undefined;
  stats: Map<string, number>;
  /** Strictness (see `rules.ts`). */
  compat: Compat;
  /** Dataset, multipart-create and object-PUT limit (bytes). */
  maxDatasetBytes: number;
  /** Test seam: awaited after a task is stored, before the create is answered. */
  onTaskStored?: (task: StoredTask) => void | Promise<void>;
  /** Test seam: awaited when a valid create arrives, before its task is stored. */
  onCreateReceived?: (name: string | undefined) => void | Promise<void>;
  /** The local neural models' engine, when enabled. */
  local?: LocalTuner;
}

/** One request as the handlers see it. */
export interface RequestContext {
  req: Request;
  url: URL;
  /** Path with any `/testapp` or `/serviceapp` prefix removed. */
  path: string;
  requestId: string;
  /** Fault drawn for this request (500/504 on streams become an SSE `error` event). */
  fault: FaultDecision;
}

/** Increments a named counter. */
export function bump(stats: Map<string, number>, key: string, by = 1): void {
  stats.set(key, (stats.get(key) ?? 0) + by);
}
