/**
 * Shared per-emulator state handed to the route handlers.
 *
 * @module
 */
import type { Authenticator } from "./auth.ts";
import type { FaultDecision } from "./faults.ts";
import type { ObjectStore } from "./objectStore.ts";
import type { RateLimiter } from "./ratelimit.ts";
import type { TaskStore } from "./tasks.ts";

/** Everything a handler may need. */
export interface EmulatorState {
  seed: number;
  auth: Authenticator;
  tasks: TaskStore;
  objects: ObjectStore;
  limiter: RateLimiter | undefined;
  stats: Map<string, number>;
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
