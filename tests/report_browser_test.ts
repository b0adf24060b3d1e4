/**
 * Opens a generated report.html in headless Chromium and checks what a reader would see (see
 * `tests/helpers/browser.ts`); `tests/reproduce_test.ts` does the same for a full reproduction.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { join } from "node:path";
import { loadCookbookImages, writeReport } from "../lib/report.ts";
import { checkReportInBrowser } from "./helpers/browser.ts";
import { fixtureReportInput } from "./fixtures/report_fixture.ts";

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

Deno.test("the browser check catches a broken report", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "report.html");
    await Deno.writeTextFile(
      path,
      `<!doctype html><html><head><meta charset="utf-8"></head><body>
<header><h1 style="font-family: 'Nonexistent Font', monospace">보고서</h1></header>
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
      ]
    ) assert(text.includes(expected), `expected "${expected}" in:\n${text}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
