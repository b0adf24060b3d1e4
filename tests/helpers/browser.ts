/**
 * Opens a report.html in headless Chromium (Debian's `/usr/bin/chromium`, driven by
 * playwright-core) and collects what a reader would see go wrong: charts with an empty box, images
 * that do not decode, console errors or page errors, any network request, and Korean text not drawn
 * with a real Hangul font (Noto CJK, via CDP `CSS.getPlatformFontsForNode`). Shared by the report
 * and reproduce tests.
 */
import { chromium } from "playwright-core";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const CJK_FONT = /^Noto (Sans|Serif) CJK/;
const HANGUL = /[\uac00-\ud7a3]/g;

/** What the browser saw; every list must be empty for a good report. */
export interface BrowserCheck {
  charts: number;
  images: number;
  problems: string[];
}

/** One chart as measured in the page. */
interface ChartBox {
  label: string;
  width: number;
  height: number;
  /** Area of the plot group's bounding box (0 when nothing was drawn). */
  plot: number;
}

/** Runs in the page (a string, so this file needs no DOM typings). */
const CHART_BOXES = `[...document.querySelectorAll("svg.chart")].map((svg) => {
  const box = svg.getBoundingClientRect();
  const plot = svg.querySelector("g.chart-plot");
  const bbox = plot ? plot.getBBox() : { width: 0, height: 0 };
  return {
    label: svg.getAttribute("aria-label") ?? "?",
    width: box.width,
    height: box.height,
    plot: bbox.width * bbox.height,
  };
})`;

async function assertChromium(): Promise<void> {
  try {
    const info = await Deno.stat(CHROMIUM);
    if (!info.isFile) throw new Error("not a file");
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install Debian's \`chromium\` (apt-get install chromium ` +
        `fonts-noto-cjk; .ci/run does this) or set CHROMIUM_PATH. This test does not skip.`,
    );
  }
}

/** Opens `path` in headless Chromium and collects every problem found. */
export async function checkReportInBrowser(
  path: string,
  expectCharts?: number,
): Promise<BrowserCheck> {
  await assertChromium();
  const profile = await Deno.makeTempDir({ prefix: "report-chromium-" });
  const problems: string[] = [];
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1400, height: 900 },
  });
  try {
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") {
        problems.push(`console ${m.type()}: ${m.text()}`);
      }
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url().slice(0, 80)}`));
    page.on("request", (r) => {
      const url = r.url();
      if (!url.startsWith("file://") && !url.startsWith("data:")) {
        problems.push(`network request: ${url.slice(0, 80)}`);
      }
    });
    const url = new URL(`file://${path}`).href;
    const response = await page.goto(url, { waitUntil: "load" });
    if (!response || !response.ok()) problems.push(`could not open ${url}`);
    await page.evaluate("document.fonts.ready.then(() => undefined)");

    const charts: ChartBox[] = await page.evaluate(CHART_BOXES);
    for (const c of charts) {
      if (!(c.width > 0 && c.height > 0)) problems.push(`chart ${c.label} has an empty box`);
      if (!(c.plot > 0)) problems.push(`chart ${c.label} drew nothing`);
    }
    // Each chart, cut from the file as written, must also parse as a standalone SVG document
    // (XML is stricter than HTML: e.g. a repeated attribute is an error there).
    const raw = (await Deno.readTextFile(path)).match(/<svg xmlns=[\s\S]*?<\/svg>/g) ?? [];
    const xmlErrors: string[] = await page.evaluate(
      `${JSON.stringify(raw)}.map((s) => new DOMParser().parseFromString(s, "image/svg+xml")` +
        `.querySelector("parsererror")?.textContent ?? "")`,
    );
    xmlErrors.forEach((e, i) => {
      if (e) problems.push(`chart ${i + 1} is not well-formed XML: ${e.slice(0, 160)}`);
    });
    if (expectCharts !== undefined && charts.length !== expectCharts) {
      problems.push(`expected ${expectCharts} charts, found ${charts.length}`);
    }
    if (charts.length === 0) problems.push("no charts in the report");

    const images: { alt: string; ok: boolean }[] = await page.evaluate(
      "[...document.images].map((i) => ({ alt: i.alt, ok: i.complete && i.naturalWidth > 0 }))",
    );
    for (const i of images) if (!i.ok) problems.push(`image ${i.alt} did not decode`);

    // Korean text drawn with a real Hangul font, in HTML and inside a chart's SVG.
    const cdp = await context.newCDPSession(page);
    await cdp.send("DOM.enable");
    await cdp.send("CSS.enable");
    const { root } = await cdp.send("DOM.getDocument", { depth: -1 });
    for (const selector of ["header h1", "#worst pre.answer-text", "svg.chart > text"]) {
      const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector });
      if (!nodeId) {
        problems.push(`no node for ${selector}`);
        continue;
      }
      const text = await page.locator(selector).first().textContent() ?? "";
      const hangul = text.match(HANGUL)?.length ?? 0;
      if (hangul === 0) {
        problems.push(`${selector} has no Korean text to check`);
        continue;
      }
      const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
      const cjkGlyphs = fonts.filter((f) => CJK_FONT.test(f.familyName))
        .reduce((n, f) => n + f.glyphCount, 0);
      if (cjkGlyphs < hangul) {
        problems.push(
          `${selector}: ${hangul} Hangul characters but only ${cjkGlyphs} glyphs from a Noto CJK ` +
            `font (fonts used: ${fonts.map((f) => `${f.familyName}×${f.glyphCount}`).join(", ")})`,
        );
      }
    }
    await cdp.detach();
    return { charts: charts.length, images: images.length, problems };
  } finally {
    await context.close();
    await Deno.remove(profile, { recursive: true });
  }
}
