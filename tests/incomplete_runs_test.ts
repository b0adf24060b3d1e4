/**
 * A run folder left by a run that stopped before answering (a failed tuning attempt leaves
 * `run.json` and nothing to score): readers of finished runs pass over it and `deno task score`
 * names it in one line.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert";
import { join } from "node:path";
import { latestCompleteRun, latestRun, runPipeline, writeRunFile } from "../lib/pipeline.ts";
import { RunConfigSchema } from "../lib/run/schema.ts";

const SCORE = new URL("../lib/cli/score.ts", import.meta.url).pathname;
const dec = new TextDecoder();

/** Writes the `run.json` a stopped run leaves, created now (so it is the newest run). */
async function incompleteRun(resultsDir: string, runId: string): Promise<string> {
  const dir = join(resultsDir, runId);
  await Deno.mkdir(dir, { recursive: true });
  await writeRunFile(dir, {
    runId,
    created: new Date(Date.now() + 1000).toISOString(),
    config: RunConfigSchema.parse({ models: ["HCX-003"], sizes: [100] }),
    backend: { kind: "clova-studio", name: "CLOVA Studio", generation: "current" },
    versions: {},
  });
  return dir;
}

Deno.test("incomplete runs: the newest scored run is found past newer stopped ones, which are named", async () => {
  const results = await Deno.makeTempDir({ prefix: "incomplete-" });
  try {
    const run = await runPipeline({
      config: { models: ["HCX-003"], sizes: [50], evalPrompts: 20 },
      resultsDir: results,
      progress: "silent",
      log: () => {},
    });
    await incompleteRun(results, "stopped-a");
    await incompleteRun(results, "stopped-b");
    // --resume still takes the newest folder; a reader of results takes the newest scored one.
    assert(["stopped-a", "stopped-b"].includes((await latestRun(results))!));
    const found = await latestCompleteRun(results);
    assertEquals(found.runId, run.runId);
    assertEquals(found.incomplete.sort(), ["stopped-a", "stopped-b"]);
    assertEquals(await latestCompleteRun(join(results, "none")), { incomplete: [] });
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});

Deno.test("incomplete runs: score names a stopped run in one line with the command that continues it", async () => {
  const results = await Deno.makeTempDir({ prefix: "incomplete-" });
  try {
    const dir = await incompleteRun(results, "stopped");
    for (const answers of [false, true]) {
      if (answers) await Deno.mkdir(join(dir, "answers"));
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", SCORE, "--run", dir],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(out.code, 1);
      assertEquals(dec.decode(out.stdout), "");
      assertEquals(
        dec.decode(out.stderr).trim(),
        `score: ${dir} is an incomplete run (no answers journaled yet); continue it with: ` +
          `deno task reproduce --resume --run stopped --results ${results}`,
      );
      await rejects(Deno.stat(join(dir, "report.html")), Deno.errors.NotFound);
    }
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});
