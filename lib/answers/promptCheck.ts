/**
 * What the batch runner checks before its first request: that a resumed journal was written for
 * this label and these sampling parameters, and that every prompt has a unique id and is the
 * prompt the journal holds at its position.
 *
 * @module
 */
import type { Prompt } from "../run/mod.ts";
import { type JournalIndex, promptFingerprint, stableJson } from "./journal.ts";
import type { SamplingParams } from "./providers.ts";
import { JournalExistsError, JournalMismatchError, PromptSourceError } from "./evaluateErrors.ts";

/** Opens the prompt source for one pass. */
export type OpenPrompts = () => AsyncIterable<Prompt> | Iterable<Prompt>;

/** How much prompt text (UTF-16 code units) a first pass keeps for the passes after it. */
export const REPLAY_BUDGET_CHARS = 16 * 1024 * 1024;

/**
 * A source whose first whole pass is kept, while its prompts' text stays within `budget`
 * characters, and handed to the passes after it instead of reading (and parsing) the source
 * again; a larger source is read afresh each pass, so memory stays bounded either way.
 */
export function replayable(open: OpenPrompts, budget = REPLAY_BUDGET_CHARS): OpenPrompts {
  let kept: Prompt[] | undefined;
  async function* firstPass(): AsyncIterable<Prompt> {
    let held: Prompt[] | undefined = [];
    let chars = 0;
    for await (const p of open()) {
      if (held) {
        chars += p.system.length + p.user.length + p.id.length + 64;
        if (chars <= budget) held.push(p);
        else held = undefined;
      }
      yield p;
    }
    kept = held;
  }
  return () => kept ?? firstPass();
}

/**
 * Refuses a journal that holds answers without `resume`, or answers of another label or of
 * other sampling parameters for a repeat this run asks for.
 */
export function checkJournal(
  journal: JournalIndex,
  at: { path: string; resume?: boolean; label: string; paramsOf: readonly SamplingParams[] },
): void {
  if (journal.lines > 0 && !at.resume) throw new JournalExistsError(at.path, journal.lines);
  for (const other of journal.labels) {
    if (other !== at.label) {
      throw new JournalMismatchError(
        at.path,
        `it holds answers labelled "${other}", this run is "${at.label}"`,
      );
    }
  }
  for (const [repeat, seen] of journal.paramsByRepeat) {
    if (repeat >= at.paramsOf.length) continue;
    const want = stableJson(at.paramsOf[repeat]);
    for (const got of seen) {
      if (got !== want) {
        throw new JournalMismatchError(
          at.path,
          `repeat ${repeat} was answered with sampling parameters ${got}, this run uses ${want}`,
        );
      }
    }
  }
}

/**
 * Reads every prompt once before the first request: ids unique, each the prompt journaled at its
 * position, and `check` passed. Returns how many prompts there are.
 */
export async function checkPrompts(
  open: OpenPrompts,
  journal: JournalIndex,
  journalPath: string,
  check?: (prompt: Prompt, index: number) => void,
): Promise<number> {
  let prompts = 0;
  const ids = new IdHashes();
  for await (const p of open()) {
    const i = prompts++;
    if (!ids.add(p.id) && (await occurrences(open, p.id)) > 1) {
      throw new PromptSourceError(`prompt id ${p.id} appears twice: ids must be unique`);
    }
    const fp = journal.fingerprint(i);
    if (fp !== 0 && fp !== promptFingerprint(p)) {
      throw new JournalMismatchError(
        journalPath,
        `prompt ${p.id} (position ${i + 1}) differs from the prompt journaled at that ` +
          "position (another prompt sheet?)",
      );
    }
    check?.(p, i);
  }
  return prompts;
}

/**
 * The prompt ids seen so far, as two 32-bit hashes each (8 bytes an id) in an open-addressing
 * table, so a million ids take 16 MB instead of a hundred. `add` says false when an id with both
 * hashes equal was added before: almost surely the same id (a false alarm has odds of about one
 * in 10⁸ at a million ids; the caller checks the id itself then).
 */
class IdHashes {
  #table = new Uint32Array(2 * 1024);
  #size = 0;

  add(id: string): boolean {
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h1 = (h1 | 1) >>> 0;
    h2 = h2 >>> 0;
    if (2 * (this.#size + 1) > this.#table.length / 2) this.#grow();
    return this.#put(h1, h2);
  }

  #put(h1: number, h2: number): boolean {
    const mask = this.#table.length / 2 - 1;
    for (let slot = h1 & mask;; slot = (slot + 1) & mask) {
      const a = this.#table[2 * slot];
      if (a === 0) {
        this.#table[2 * slot] = h1;
        this.#table[2 * slot + 1] = h2;
        this.#size++;
        return true;
      }
      if (a === h1 && this.#table[2 * slot + 1] === h2) return false;
    }
  }

  #grow() {
    const old = this.#table;
    this.#table = new Uint32Array(old.length * 2);
    this.#size = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0) this.#put(old[i], old[i + 1]);
  }
}

/** How many prompts of the source have id `id` (read again: only when a hash said "twice"). */
async function occurrences(
  open: () => AsyncIterable<Prompt> | Iterable<Prompt>,
  id: string,
): Promise<number> {
  let n = 0;
  for await (const p of open()) if (p.id === id) n++;
  return n;
}
