/**
 * Opens HTML pages in headless Chromium (Debian's `/usr/bin/chromium`, driven by playwright-core)
 * and collects what a reader would see go wrong.
 *
 * {@link checkReportInBrowser}: charts with an empty box, chart labels that overlap, images that do
 * not decode, console errors or page errors, any network request, and Korean text not drawn with
 * the report's embedded font (via CDP `CSS.getPlatformFontsForNode`). By default Chromium runs
 * with a fontconfig that lists no CJK font, so Hangul can only come from the page itself.
 *
 * {@link checkPageInBrowser}: console errors, page errors and failed requests of any page;
 * {@link inspectPageInBrowser} adds the values of expressions and, for the nodes it is given, the
 * same embedded-font check (the notebook exports).
 */
import { resolve } from "node:path";
import { pathToFileURL as toFileUrl } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";

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
const EMBEDDED_FAMILY = "Noto Sans KR";
const HANGUL = /[\uac00-\ud7a3]/g;
/** Latin-only system fonts that stay visible when CJK fonts are hidden (if installed). */
const LATIN_FONT_DIR = "/usr/share/fonts/truetype/dejavu";

/** What the browser saw; `problems` must be empty for a good page. */
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
  /** Pairs of text labels whose drawn boxes intersect. */
  overlaps: string[];
  texts: number;
}

/**
 * Runs in the page (a string, so this file needs no DOM typings). Each `<text>` of a chart becomes
 * the quadrilateral its glyph box covers in the chart's coordinates (its `getBBox()` through its
 * screen matrix relative to the chart's, so rotated tick labels are measured as drawn), shrunk by 0.5 px; two labels overlap
 * when the separating-axis test finds no axis that separates their quadrilaterals.
 */
const CHART_BOXES = `[...document.querySelectorAll("svg.chart")].map((svg) => {
  const box = svg.getBoundingClientRect();
  const plot = svg.querySelector("g.chart-plot");
  const bbox = plot ? plot.getBBox() : { width: 0, height: 0 };
  const rootInverse = svg.getScreenCTM().inverse();
  const quads = [];
  for (const t of svg.querySelectorAll("text")) {
    const text = (t.textContent ?? "").trim();
    if (!text) continue;
    const b = t.getBBox();
    if (b.width === 0 || b.height === 0) continue;
    const m = rootInverse.multiply(t.getScreenCTM());
    const s = 0.5;
    const corners = [[b.x + s, b.y + s], [b.x + b.width - s, b.y + s],
      [b.x + b.width - s, b.y + b.height - s], [b.x + s, b.y + b.height - s]]
      .map(([x, y]) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]);
    quads.push({ text, corners });
  }
  const axes = (q) => q.corners.map((p, i) => {
    const r = q.corners[(i + 1) % 4];
    return [r[1] - p[1], p[0] - r[0]];
  });
  const separated = (a, b) => [...axes(a), ...axes(b)].some(([x, y]) => {
    const pa = a.corners.map((p) => p[0] * x + p[1] * y);
    const pb = b.corners.map((p) => p[0] * x + p[1] * y);
    return Math.max(...pa) <= Math.min(...pb) || Math.max(...pb) <= Math.min(...pa);
  });
  const overlaps = [];
  for (let i = 0; i < quads.length; i++) {
    for (let j = i + 1; j < quads.length; j++) {
      if (!separated(quads[i], quads[j])) overlaps.push(quads[i].text + " ⨯ " + quads[j].text);
    }
  }
  return {
    label: svg.getAttribute("aria-label") ?? "?",
    width: box.width,
    height: box.height,
    plot: bbox.width * bbox.height,
    overlaps,
    texts: quads.length,
  };
})`;

/** Nodes whose Korean text must be drawn with the embedded font. */
const FONT_NODES = [
  "header h1",
  "section#tables caption",
  "#worst pre.answer-text",
  "svg.chart > text",
  "svg.chart .chart-legend text",
  'svg.chart g[aria-label="x-axis tick label"] text:nth-of-type(2)',
];

async function assertChromium(): Promise<void> {
  try {
    const info = await Deno.stat(CHROMIUM);
    if (!info.isFile) throw new Error("not a file");
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install Debian's \`chromium\` package ` +
        `(deno task setup, or apt-get install -y chromium) or set CHROMIUM_PATH. ` +
        `This test does not skip.`,
    );
  }
}

/**
 * A fontconfig file for Chromium that lists no CJK font: only DejaVu (Latin) when it is
 * installed, otherwise no font at all.
 */
async function fontconfigWithoutCjk(dir: string): Promise<string> {
  const hasLatin = await Deno.stat(LATIN_FONT_DIR).then(() => true, () => false);
  const path = `${dir}/fonts.conf`;
  await Deno.writeTextFile(
    path,
    `<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>` +
      (hasLatin ? `<dir>${LATIN_FONT_DIR}</dir>` : "") +
      `<cachedir>${dir}/cache</cachedir></fontconfig>`,
  );
  return path;
}

/** Options of the browser checks. */
export interface BrowserOptions {
  /** Let Chromium see the machine's own fonts (default: CJK fonts hidden). */
  systemFonts?: boolean;
  /** Viewport width in CSS pixels (default 1400). */
  width?: number;
}

async function withPage<T>(
  options: BrowserOptions,
  fn: (page: Page, context: BrowserContext, problems: string[]) => Promise<T>,
): Promise<T> {
  await assertChromium();
  const profile = await Deno.makeTempDir({ prefix: "report-chromium-" });
  const env: Record<string, string> = Deno.env.toObject();
  if (!options.systemFonts) env.FONTCONFIG_FILE = await fontconfigWithoutCjk(profile);
  const problems: string[] = [];
  const context = await chromium.launchPersistentContext(`${profile}/profile`, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    env,
    viewport: { width: options.width ?? 1400, height: 900 },
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
    return await fn(page, context, problems);
  } finally {
    await context.close();
    await Deno.remove(profile, { recursive: true });
  }
}

async function open(page: Page, path: string, problems: string[]): Promise<void> {
  const url = toFileUrl(resolve(path)).href;
  const response = await page.goto(url, { waitUntil: "load" });
  if (!response || !response.ok()) problems.push(`could not open ${url}`);
  await page.evaluate("document.fonts.ready.then(() => undefined)");
}

/** Opens any page and reports console errors and warnings, page errors and failed requests. */
export async function checkPageInBrowser(
  path: string,
  options: BrowserOptions = {},
): Promise<string[]> {
  return await withPage(options, async (page, _context, problems) => {
    await open(page, path, problems);
    return problems;
  });
}

/**
 * Opens any page once: its console errors and warnings, page errors and failed requests (as
 * {@link checkPageInBrowser}), and the values of JavaScript `expressions` evaluated in it.
 */
export async function inspectPageInBrowser(
  path: string,
  expressions: readonly string[],
  options: BrowserOptions & { fontNodes?: readonly string[] } = {},
): Promise<{ problems: string[]; values: unknown[] }> {
  return await withPage(options, async (page, context, problems) => {
    await open(page, path, problems);
    const values: unknown[] = [];
    for (const e of expressions) values.push(await page.evaluate(e));
    if (options.fontNodes) await fontProblems(page, context, options.fontNodes, problems);
    return { problems, values };
  });
}

/** Measures every `svg.chart` of the open page; adds what is wrong to `problems`. */
async function chartProblems(page: Page, path: string, problems: string[]): Promise<ChartBox[]> {
  const charts: ChartBox[] = await page.evaluate(CHART_BOXES);
  for (const c of charts) {
    if (!(c.width > 0 && c.height > 0)) problems.push(`chart ${c.label} has an empty box`);
    if (!(c.plot > 0)) problems.push(`chart ${c.label} drew nothing`);
    if (c.texts === 0) problems.push(`chart ${c.label} has no text labels`);
    for (const o of c.overlaps) problems.push(`chart ${c.label}: labels overlap: ${o}`);
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
  return charts;
}

/**
 * Opens a page of charts and reports charts that drew nothing, have no labels or labels that
 * overlap, or are not well-formed SVG, plus console and page errors.
 */
export async function checkChartsInBrowser(
  path: string,
  options: BrowserOptions = {},
): Promise<{ charts: number; problems: string[] }> {
  return await withPage(options, async (page, _context, problems) => {
    await open(page, path, problems);
    const charts = await chartProblems(page, path, problems);
    return { charts: charts.length, problems };
  });
}

/** Opens the page at `path` and returns the value of a JavaScript `expression` evaluated in it. */
export async function evaluateInBrowser<T>(
  path: string,
  expression: string,
  options: BrowserOptions = {},
): Promise<T> {
  return await withPage(options, async (page, _context, problems) => {
    await open(page, path, problems);
    return await page.evaluate(expression) as T;
  });
}

/** Opens a report at `path` in headless Chromium and collects every problem found. */
export async function checkReportInBrowser(
  path: string,
  expectCharts?: number,
  options: BrowserOptions = {},
): Promise<BrowserCheck> {
  return await withPage(options, async (page, context, problems) => {
    await open(page, path, problems);

    const charts = await chartProblems(page, path, problems);
    if (expectCharts !== undefined && charts.length !== expectCharts) {
      problems.push(`expected ${expectCharts} charts, found ${charts.length}`);
    }
    if (charts.length === 0) problems.push("no charts in the report");

    const images: { alt: string; ok: boolean }[] = await page.evaluate(
      "[...document.images].map((i) => ({ alt: i.alt, ok: i.complete && i.naturalWidth > 0 }))",
    );
    for (const i of images) if (!i.ok) problems.push(`image ${i.alt} did not decode`);

    // Korean text drawn with the page's own (embedded) font, in HTML and inside the charts.
    await fontProblems(page, context, FONT_NODES, problems);
    return { charts: charts.length, images: images.length, problems };
  });
}

/**
 * Adds to `problems` each node of `selectors` (its first match) whose Hangul is not all drawn with
 * glyphs of the page's embedded font, or that has no Hangul to check.
 */
async function fontProblems(
  page: Page,
  context: BrowserContext,
  selectors: readonly string[],
  problems: string[],
): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send("DOM.enable");
  await cdp.send("CSS.enable");
  const { root } = await cdp.send("DOM.getDocument", { depth: -1 });
  for (const selector of selectors) {
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
    const embedded = fonts.filter((f) => f.isCustomFont && f.familyName === EMBEDDED_FAMILY)
      .reduce((n, f) => n + f.glyphCount, 0);
    if (embedded < hangul) {
      problems.push(
        `${selector}: ${hangul} Hangul characters but only ${embedded} glyphs from the ` +
          `embedded ${EMBEDDED_FAMILY} (fonts used: ${
            fonts.map((f) =>
              `${f.familyName}${f.isCustomFont ? " (embedded)" : ""}×${f.glyphCount}`
            )
              .join(", ") || "none"
          })`,
      );
    }
  }
  await cdp.detach();
}

/** Saves a PNG of the first element matching `selector` on the page at `path`. */
export async function screenshotElement(
  path: string,
  selector: string,
  out: string,
  options: BrowserOptions = {},
): Promise<void> {
  await withPage(options, async (page, _context, problems) => {
    await open(page, path, problems);
    await page.locator(selector).first().screenshot({ path: out });
  });
}
