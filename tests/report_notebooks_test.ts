/**
 * The notebooks as a reader gets them: executed headlessly with the Deno kernel, exported to HTML
 * with the portable template, and opened in headless Chromium.
 */
import {
  deepStrictEqual as assertEquals,
  doesNotMatch as assertNotMatch,
  ok as assert,
} from "node:assert";
import { fileURLToPath } from "node:url";
import { listNotebooks, runNotebooks } from "../lib/notebooks.ts";
import { checkPageInBrowser, evaluateInBrowser } from "./helpers/browser.ts";

const NOTEBOOKS = fileURLToPath(new URL("../notebooks/", import.meta.url));

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
  try {
    const runs = await runNotebooks({ dir: NOTEBOOKS, outDir });
    assertEquals(runs.filter((r) => !r.ok).map((r) => `${r.notebook}: ${r.error}`), []);
    assertEquals(runs.map((r) => r.notebook), await listNotebooks(NOTEBOOKS));
    for (const run of runs) {
      const html = await Deno.readTextFile(run.html!);
      assertNotMatch(html, /file:\/\//, run.notebook);
      assertNotMatch(html, /<script[^>]*\ssrc=/i, run.notebook);
      assertEquals(await checkPageInBrowser(run.html!, { systemFonts: true }), [], run.notebook);
      assertEquals(await evaluateInBrowser(run.html!, MISALIGNED), [], run.notebook);
    }
    // Notebook 05's tables are the report's compact ones: a row per tuning size at most.
    const analysis = runs.find((r) => r.notebook.startsWith("05_"))!;
    const rows = await evaluateInBrowser<number>(analysis.html!, LONGEST_TABLE);
    assert(rows > 0 && rows <= 14, `longest table in 05 has ${rows} rows`);
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
});
