/**
 * The errors the batch runner refuses or stops with.
 *
 * @module
 */
import type { ProviderFailure } from "./providers.ts";

/** An existing journal was found and `resume` was not set. */
export class JournalExistsError extends Error {
  constructor(readonly path: string, readonly records: number) {
    super(
      `${path} already holds ${records} answer(s). Pass --resume (resume: true) to continue it, ` +
        `or delete it / choose another --journal to start over.`,
    );
    this.name = "JournalExistsError";
  }
}

/** The journal being resumed was written for another label, prompt sheet or parameters. */
export class JournalMismatchError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`${path} cannot be resumed with these settings: ${detail}`);
    this.name = "JournalMismatchError";
  }
}

/** The prompts themselves are unusable (a repeated id, a failed check). */
export class PromptSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PromptSourceError";
  }
}

/** The run hit an error that no prompt can get past (credentials, unknown task or model). */
export class EvaluationAbortedError extends Error {
  constructor(readonly failure: ProviderFailure, readonly journaled: number) {
    super(
      `evaluation stopped: ${failure.code}${
        failure.httpStatus ? ` (HTTP ${failure.httpStatus})` : ""
      }: ${failure.message}${failure.advice ? ` — ${failure.advice}` : ""}; ` +
        `${journaled} answer(s) journaled, fix it and rerun with --resume.`,
    );
    this.name = "EvaluationAbortedError";
  }
}
