/**
 * The notebooks as a reader gets them: executed headlessly with the Deno kernel, exported to HTML
 * with the portable template, and opened in headless Chromium with no CJK font on the machine, so
 * Hangul can only come from the export's embedded font. The notebooks read runs from, and write
 * their own files to, temporary folders: the user's `results/` is neither read nor written.
 */
import {
  deepStrictEqual as assertEquals,
  doesNotMatch as assertNotMatch,
  ok as assert,
} from "node:assert";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { listNotebooks, type NotebookRun, runNotebooks } from "../lib/report/notebooks.ts";
import { writeRunFile } from "../lib/pipeline.ts";
import { RunConfigSchema } from "../lib/run/schema.ts";
import { inspectPageInBrowser } from "./helpers/browser.ts";

const NOTEBOOKS = fileURLToPath(new URL("../notebooks/", import.meta.url));
const USER_RESULTS = fileURLToPath(new URL("../results/", import.meta.url));

/** Nodes whose Hangul must be drawn with the embedded font, by notebook. */
function fontNodes(notebook: string): string[] {
  const charts = notebook.startsWith("02_") || notebook.startsWith("05_");
  return [".jp-RenderedMarkdown h1", ...(charts ? ["svg.chart > text"] : [])];
}

/** Every path under `dir` (none when it does not exist). */
async function listTree(dir: string): Promise<string[]> {
  const paths: string[] = [];
  const walk = async (sub: string) => {
    try {
      for await (const e of Deno.readDir(join(dir, sub))) {
        const path = join(sub, e.name);
        paths.push(path);
        if (e.isDirectory) await walk(path);
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  };
  await walk("");
  return paths.sort();
}

/** In the page: text cells of tables (not `td.num`) whose computed alignment is not left. */
const MISALIGNED = `[...document.querySelectorAll(".jp-OutputArea-output td:not(.num)")]
  .filter((td) => getComputedStyle(td).textAlign !== "left"
    || [...td.querySelectorAll("pre")].some((p) => getComputedStyle(p).textAlign !== "left"))
  .map((td) => td.textContent.slice(0, 40))`;

/** In the page: the longest body of a table outside the answers' mention lists. */
const LONGEST_TABLE = `Math.max(0, ...[...document.querySelectorAll(".jp-OutputArea-output table")]
  .filter((t) => !t.classList.contains("mentions"))
  .map((t) => t.tBodies[0]?.rows.length ?? 0))`;

Deno.test("notebook exports open anywhere: no file:// or script links, no console errors", async () => {
  const outDir = await Deno.makeTempDir({ prefix: "notebooks-" });
  const resultsDir = await Deno.makeTempDir({ prefix: "notebooks-results-" });
  const userResults = await listTree(USER_RESULTS);
  try {
    // The runs folder holds only a run that stopped before answering (as a failed tuning attempt
    // leaves it): notebook 05 must pass over it, say so, and make a run of its own.
    await Deno.mkdir(join(resultsDir, "stopped"));
    await writeRunFile(join(resultsDir, "stopped"), {
      runId: "stopped",
      created: new Date().toISOString(),
      config: RunConfigSchema.parse({ models: ["HCX-003"], sizes: [100] }),
      backend: { kind: "clova-studio", name: "CLOVA Studio", generation: "current" },
      versions: {},
    });
    // The notebooks are independent (each writes its own folder): two run at a time, and each
    // export is opened in Chromium while the next notebook runs.
    const names = await listNotebooks(NOTEBOOKS);
    const inspections = new Map<string, ReturnType<typeof inspectPageInBrowser>>();
    const inspect = (run: NotebookRun) => {
      if (!run.ok) return;
      const expressions = run.notebook.startsWith("05_")
        ? [MISALIGNED, LONGEST_TABLE]
        : [MISALIGNED];
      inspections.set(
        run.notebook,
        inspectPageInBrowser(run.html!, expressions, { fontNodes: fontNodes(run.notebook) }),
      );
    };
    const lanes = [0, 1].map((lane) =>
      runNotebooks({
        dir: NOTEBOOKS,
        outDir,
        resultsDir,
        only: names.filter((_, i) => i % 2 === lane),
        onResult: inspect,
      })
    );
    const runs = (await Promise.all(lanes)).flat()
      .sort((a, b) => a.notebook < b.notebook ? -1 : 1);
    assertEquals(runs.filter((r) => !r.ok).map((r) => `${r.notebook}: ${r.error}`), []);
    assertEquals(runs.map((r) => r.notebook), names);
    for (const run of runs) {
      const html = await Deno.readTextFile(run.html!);
      assertNotMatch(html, /file:\/\//, run.notebook);
      assertNotMatch(html, /<script[^>]*\ssrc=/i, run.notebook);
      assert(run.outputs! > 0, `${run.notebook}: no outputs`);
      const { problems, values } = await inspections.get(run.notebook)!;
      assertEquals(problems, [], run.notebook);
      assertEquals(values[0], [], `${run.notebook}: text cells not left-aligned`);
      if (run.notebook.startsWith("05_")) {
        assert(
          html.includes("skipped 1 incomplete run folder(s) (no summary.json): stopped"),
          "05 names the incomplete run it passed over",
        );
        // Notebook 05's tables are the report's compact ones: a row per tuning size at most.
        const rows = values[1] as number;
        assert(rows > 0 && rows <= 14, `longest table in 05 has ${rows} rows`);
      }
    }
    assert(runs.some((r) => r.notebook.startsWith("05_")), "notebook 05 ran");
    assertEquals(await listTree(USER_RESULTS), userResults, "the user's results/ changed");
  } finally {
    await Deno.remove(outDir, { recursive: true });
    await Deno.remove(resultsDir, { recursive: true });
  }
});
