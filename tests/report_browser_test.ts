/**
 * Opens generated reports in headless Chromium with the machine's CJK fonts hidden and checks
 * what a reader would see (see `tests/helpers/browser.ts`): Hangul drawn with the embedded font,
 * every chart drawn with no two labels overlapping, images decoded, no console errors, nothing
 * loaded from the network.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { join } from "node:path";
import { BASE_MODELS } from "../lib/cookbook.ts";
import { runPipeline } from "../lib/pipeline.ts";
import { loadCookbookImages, writeReport } from "../lib/report/report.ts";
import { checkReportInBrowser } from "./helpers/browser.ts";
import { fixtureReportInput } from "./fixtures/report_fixture.ts";

/** The default run's report must stay under this many bytes. */
const REPORT_BUDGET = 2_000_000;

Deno.test("report.html renders in headless Chromium: charts, fonts, no errors, offline", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const images = await loadCookbookImages(new URL("../data/cookbook/", import.meta.url));
    const input = { ...fixtureReportInput(), cookbookImages: images };
    const path = await writeReport(dir, input);
    const result = await checkReportInBrowser(path, 3);
    assertEquals(result.problems, []);
    assertEquals(result.charts, 3);
    assertEquals(result.images, images.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the default run's report: under 2 MB, renders with no system CJK font", async () => {
  const resultsDir = await Deno.makeTempDir({ prefix: "report-default-" });
  try {
    const run = await runPipeline({ resultsDir, progress: "silent", log: () => {} });
    const path = join(run.dir, "report.html");
    const bytes = (await Deno.stat(path)).size;
    assert(bytes < REPORT_BUDGET, `report.html weighs ${bytes} bytes`);
    // Every chart of the page (the three cookbook kinds per model, then the statistics').
    const html = await Deno.readTextFile(path);
    const charts = html.match(/<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" class="chart /g);
    assert((charts?.length ?? 0) >= BASE_MODELS.length * 3, `${charts?.length} charts`);
    const result = await checkReportInBrowser(path, charts!.length);
    assertEquals(result.problems, []);
  } finally {
    await Deno.remove(resultsDir, { recursive: true });
  }
});

Deno.test("the browser check catches a broken report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "report.html");
    await Deno.writeTextFile(
      path,
      `<!doctype html><html><head><meta charset="utf-8"></head><body>
<header><h1>보고서</h1></header>
<img src="data:image/png;base64,AAAA" alt="broken">
<img src="http://127.0.0.1:9/x.png" alt="remote">
<script>console.error("boom")</script></body></html>`,
    );
    const { problems, charts } = await checkReportInBrowser(path);
    assertEquals(charts, 0);
    const text = problems.join("\n");
    for (
      const expected of [
        "no charts",
        "console error: boom",
        "network request: http://127.0.0.1:9/x.png",
        "image broken did not decode",
        "no node for #worst pre.answer-text",
        "header h1: 3 Hangul characters but only 0 glyphs from the embedded Noto Sans KR",
      ]
    ) assert(text.includes(expected), `expected "${expected}" in:\n${text}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the browser check catches overlapping chart labels", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "report.html");
    await Deno.writeTextFile(
      path,
      `<!doctype html><html><head><meta charset="utf-8"></head><body>
<svg xmlns="http://www.w3.org/2000/svg" class="chart" aria-label="t" width="300" height="200">
<g class="chart-plot"><rect width="100" height="100" fill="#ccc" /></g>
<text x="10" y="50" font-size="14">100%</text><text x="30" y="52" font-size="14">axis</text>
<text x="10" y="150" font-size="14" transform="rotate(-45 10 150)">rotated tick label</text>
<text x="60" y="150" font-size="14" transform="rotate(-45 60 150)">rotated tick label</text>
<text x="200" y="20" font-size="14">alone</text></svg></body></html>`,
    );
    const { problems } = await checkReportInBrowser(path, 1, { systemFonts: true });
    const overlaps = problems.filter((p) => p.includes("labels overlap"));
    assertEquals(overlaps, ["chart t: labels overlap: 100% ⨯ axis"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
