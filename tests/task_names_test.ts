/**
 * Tuning task names: at most 30 characters (what the service takes), one per label within a
 * run, different between runs, and the same every time they are made, so a resumed run finds
 * the task it created.
 */
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { MAX_TASK_NAME, taskName } from "../lib/tuning/stage.ts";
import { MODELS } from "../lib/backends/emulator/models.ts";

/** Every model a run can tune (the emulator's list, local models included). */
const MODEL_IDS = Object.values(MODELS).filter((m) => m.tunable).map((m) => m.name);

const SIZES = [50, 100, 200, 500, 1000, 2000, 10_000, 1_000_000];
const RUNS = [
  "20261207-095048",
  "20261207-095048-2",
  "20261207-095048-13",
  "w",
  "my-long-run-name",
];

Deno.test("task names: ≤ 30 characters, one per label in a run, distinct between runs, stable", () => {
  assertEquals(MAX_TASK_NAME, 30);
  const all = new Map<string, string>();
  for (const run of RUNS) {
    for (const model of MODEL_IDS) {
      for (const size of SIZES) {
        const name = taskName(run, model, size);
        assert(name.length >= 2 && name.length <= 30, `${run} ${model} ${size}: ${name}`);
        assertEquals(taskName(run, model, size), name, "made again the same");
        const label = `${run} ${model}@${size}`;
        assert(!all.has(name), `${label} and ${all.get(name)} share ${name}`);
        all.set(name, label);
      }
    }
  }
  // Short enough names keep the readable form earlier runs used.
  assertEquals(taskName("20261207-095048", "HCX-003", 100), "20261207-095048-HCX-003-100");
  // The example, 34 characters before.
  const dash = taskName("20261207-095048", "HCX-DASH-001", 10_000);
  assert(dash.length <= 30 && dash.startsWith("HCX-DASH-001-10000-"), dash);
});

Deno.test("task names: a label with no name of 30 characters is refused before anything is made", () => {
  throws(() => taskName("run", "a-model-name-of-twenty", 1_000_000), /at most 30 characters/);
});
