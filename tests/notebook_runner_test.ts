/**
 * The notebook runner (`lib/report/notebooks.ts` with `lib/report/notebook_executor.py`) on small fixture
 * notebooks: the outputs the Deno kernel publishes after reporting a cell finished still reach the
 * export, a display that never arrives fails the run, and the export carries the embedded Hangul
 * font.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { fileURLToPath } from "node:url";
import { countOutputs, runNotebooks } from "../lib/report/notebooks.ts";
import { inspectPageInBrowser } from "./helpers/browser.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/notebooks/", import.meta.url));

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "notebook-runner-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("notebook runner: every output arrives, in order, and Hangul is drawn with the embedded font", async () => {
  await inTempDir(async (outDir) => {
    // Plain `nbconvert --execute` lost some of these 44 outputs in most runs; run it twice.
    for (let attempt = 0; attempt < 2; attempt++) {
      const [run] = await runNotebooks({ dir: `${FIXTURES}late`, outDir });
      assert(run.ok, run.error);
      const html = await Deno.readTextFile(run.html!);
      // 40 displays, the log line and the value; then one display and the value.
      assertEquals(run.outputs, 44);
      assertEquals(countOutputs(html), 44);
      const shown = [...html.matchAll(/<p class="late">([^<]*)<\/p>/g)].map((m) => m[1]);
      assertEquals(shown, [...Array.from({ length: 40 }, (_, i) => `표시 ${i}`), "마지막"]);
      assert(html.includes("logged after the displays"), "the log line is in the export");
      assert(html.includes("the cell&#39;s value") || html.includes("the cell's value"));
      // The runner's own marker requests leave nothing in the export, and cells are numbered 1, 2.
      assert(!html.includes("notebook-runner-marker"), "a marker leaked into the export");
      const prompts = [...html.matchAll(/In&nbsp;\[(\d+)\]:/g)].map((m) => m[1]);
      assertEquals(prompts, ["1", "2"]);
      if (attempt === 0) {
        // With no CJK font on the machine, the export's Hangul comes from its embedded font.
        const { problems } = await inspectPageInBrowser(run.html!, [], {
          fontNodes: [".jp-RenderedMarkdown h1", "p.late"],
        });
        assertEquals(problems, []);
      }
    }
  });
});

Deno.test("notebook runner: a display the cell made that never arrives fails the notebook, in one line", async () => {
  await inTempDir(async (outDir) => {
    const [run] = await runNotebooks({ dir: `${FIXTURES}lost`, outDir });
    assertEquals(run.ok, false);
    assertEquals(
      run.error,
      "cell 0: the kernel displayed 2 output(s) but 1 arrived; the export would be incomplete",
    );
  });
});
