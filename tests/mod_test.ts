/**
 * `lib/mod.ts` is the public surface: everything the notebooks import from `lib/` is there, and
 * the run-folder functions a user script needs work through it alone.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { join } from "node:path";
import * as mod from "../lib/mod.ts";

const NOTEBOOKS = new URL("../notebooks/", import.meta.url);

Deno.test("lib/mod.ts exports every value the notebooks import from lib/", async () => {
  const missing: string[] = [];
  for await (const e of Deno.readDir(NOTEBOOKS)) {
    if (!e.name.endsWith(".ipynb")) continue;
    const nb = JSON.parse(await Deno.readTextFile(new URL(e.name, NOTEBOOKS)));
    const code = nb.cells.filter((c: { cell_type: string }) => c.cell_type === "code")
      .map((c: { source: string[] }) => c.source.join("")).join("\n");
    for (const m of code.matchAll(/import \{([^}]*)\} from "\.\.\/lib\/[^"]+"/g)) {
      for (const raw of m[1].split(",")) {
        const name = raw.trim();
        if (name === "" || name.startsWith("type ")) continue;
        if (!(name in mod)) missing.push(`${e.name}: ${name}`);
      }
    }
  }
  assertEquals(missing, []);
});

Deno.test("a script can run the experiment and read its run folder through lib/mod.ts", async () => {
  const results = await Deno.makeTempDir({ prefix: "mod-" });
  try {
    const run = await mod.runPipeline({
      config: { models: ["HCX-003"], sizes: [50], evalPrompts: 20 },
      resultsDir: results,
      progress: "silent",
      log: () => {},
    });
    assertEquals(await mod.latestRun(results), run.runId);
    const summary = await mod.readSummary(run.dir);
    assertEquals(summary.answers, 40);
    const records = await mod.readJournal(join(run.dir, mod.RUN_FILES.journal("HCX-003@50")));
    assertEquals(records.length, 20);
    assert(records.every((r) => mod.AnswerRecordSchema.safeParse(r).success));
  } finally {
    await Deno.remove(results, { recursive: true });
  }
});
