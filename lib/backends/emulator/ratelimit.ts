/**
 * Per-model QPM/TPM limits over a sliding 60-second window (reference §5): a request is admitted
 * only if both the request count and the token count (input tokens + requested max output
 * tokens) of the last 60 s stay within the model's limits; tuned tasks count as their base model.
 * Rejected requests are not counted. A rejection carries the seconds until enough of the window
 * has expired (`Retry-After`).
 *
 * @module
 */

interface Entry {
  t: number;
  tokens: number;
}

interface Window {
  entries: Entry[];
  head: number;
  tokens: number;
}

/** Limits for one model. */
export interface ModelLimit {
  qpm: number;
  tpm: number;
}

const WINDOW_MS = 60_000;

/** Sliding-window limiter. */
export class RateLimiter {
  #limits: Record<string, ModelLimit>;
  #windows = new Map<string, Window>();
  #now: () => number;

  constructor(limits: Record<string, ModelLimit>, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  /**
   * Admits a request of `tokens` for `model` (counting it), or returns the seconds to wait.
   * Models without a configured limit are always admitted.
   */
  admit(model: string, tokens: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const limit = this.#limits[model];
    if (!limit) return { ok: true };
    const now = this.#now();
    let w = this.#windows.get(model);
    if (!w) this.#windows.set(model, w = { entries: [], head: 0, tokens: 0 });
    while (w.head < w.entries.length && w.entries[w.head].t <= now - WINDOW_MS) {
      w.tokens -= w.entries[w.head].tokens;
      w.head++;
    }
    if (w.head > 1024 && w.head * 2 > w.entries.length) {
      w.entries = w.entries.slice(w.head);
      w.head = 0;
    }
    const count = w.entries.length - w.head;
    if (count + 1 <= limit.qpm && w.tokens + tokens <= limit.tpm) {
      w.entries.push({ t: now, tokens });
      w.tokens += tokens;
      return { ok: true };
    }
    // Earliest time at which enough old entries expire to admit this request.
    let freedTokens = 0;
    let wait = WINDOW_MS;
    for (let i = w.head; i < w.entries.length; i++) {
      freedTokens += w.entries[i].tokens;
      const remaining = count - (i - w.head + 1);
      if (remaining + 1 <= limit.qpm && w.tokens - freedTokens + tokens <= limit.tpm) {
        wait = w.entries[i].t + WINDOW_MS - now;
        break;
      }
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
  }
}
