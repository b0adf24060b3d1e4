/**
 * Checks that a task's input is refused the way the toolkit promises: one line, naming why.
 *
 * @module
 */
import nodeAssert from "node:assert/strict";
import { TaskError } from "../../lib/tasks/mod.ts";

/** Runs `fn`, expects a one-line TaskError containing `includes`, and returns its message. */
export async function refused(fn: () => unknown, includes: string): Promise<string> {
  try {
    await fn();
  } catch (e) {
    nodeAssert.ok(e instanceof TaskError, `expected TaskError, got ${e}`);
    nodeAssert.ok(!e.message.includes("\n"), `not one line: ${e.message}`);
    nodeAssert.ok(e.message.includes(includes), `${JSON.stringify(e.message)} lacks ${includes}`);
    return e.message;
  }
  throw new Error(`not refused (expected "${includes}")`);
}
