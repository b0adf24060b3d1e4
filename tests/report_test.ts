import {
  deepStrictEqual as assertEquals,
  doesNotMatch as assertNotMatch,
  match as assertMatch,
  ok as assert,
} from "node:assert";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import { loadPublishedTables } from "../lib/analysis/tables.ts";
import { escapeHtml, htmlTable, keyValueTable, trustedHtml } from "../lib/io/html.ts";
import {
  type CookbookImage,
  highlightAnswer,
  loadCookbookImages,
  mentionResolution,
  redactConfig,
  renderReport,
  writeReport,
} from "../lib/report/report.ts";
import { recompressPng } from "../lib/report/png.ts";
import type { Mention } from "../lib/scoring/score.ts";
import {
  fixtureGroupSummaries,
  fixtureReportInput,
  fixtureSizeSummaries,
} from "./fixtures/report_fixture.ts";

const COOKBOOK_DIR = new URL("../data/cookbook/", import.meta.url);

/** RGBA pixels and size of a PNG. */
function pixels(png: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const image = PNG.sync.read(Buffer.from(png));
  return { width: image.width, height: image.height, data: new Uint8Array(image.data) };
}

/** A 1×1 PNG, enough to test embedding without the real figures. */
const PNG_1X1 = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4" +
  "nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==";

function fixtureImages(): CookbookImage[] {
  return [
    { file: "chart_HCX-003_error_by_size.png", model: "HCX-003", chart: "size", dataUri: PNG_1X1 },
    {
      file: "chart_HCX-003_error_by_country_count.png",
      model: "HCX-003",
      chart: "countryCount",
      dataUri: PNG_1X1,
    },
    { file: "experiment_design.png", model: null, chart: "other", dataUri: PNG_1X1 },
  ];
}

function mention(raw: string, line: number, status: Mention["status"], kind: Mention["kind"]) {
  return {
    raw,
    text: raw,
    line,
    label: "아시아",
    labelContinent: null,
    kind,
    code: null,
    name: null,
    continent: null,
    inOwnContinent: null,
    status,
  } satisfies Mention;
}

Deno.test("escapeHtml and table helpers escape every cell unless trusted", () => {
  assertEquals(
    escapeHtml(`<a href="x">'&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
  );
  assertEquals(escapeHtml(null), "");
  const t = htmlTable(["<h>"], [["<i>"], [trustedHtml("<b>ok</b>")], [null], [NaN], [3]], {
    caption: "<c>",
    numeric: [0],
  });
  assert(t.includes("&lt;h&gt;") && t.includes("&lt;i&gt;") && t.includes("<b>ok</b>"));
  assert(t.includes("<caption>&lt;c&gt;</caption>"));
  assertEquals(t.match(/<td class="num">–<\/td>/g)?.length, 2);
  const kv = keyValueTable([["<k>", "<v>"]]);
  assert(kv.includes("&lt;k&gt;") && kv.includes("&lt;v&gt;") && !kv.includes("<k>"));
});

Deno.test("renderReport: every section, both backends named, deterministic", async () => {
  const input = { ...fixtureReportInput(), cookbookImages: fixtureImages() };
  const html = await renderReport(input);
  for (const id of ["run", "datasets", "tables", "charts", "worst"]) {
    assert(html.includes(`<section id="${id}">`), `section ${id}`);
  }
  for (
    const text of [
      "실행 설정과 백엔드",
      "데이터셋 통계",
      "요약 표",
      "차트",
      "가장 나쁜 답변",
      "local CLOVA Studio emulator — reference learner",
      "CLOVA Studio, 2024 (api-hyperclova.navercorp.com",
      "datasets/train_50.csv",
      "국가 수 × 대륙 수",
    ]
  ) assert(html.includes(text), `missing ${text}`);
  // 3 charts for the one model, each beside a cookbook figure or a "no figure" note.
  assertEquals(
    html.match(/<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" class="chart /g)?.length,
    3,
  );
  assertEquals(html.match(/<img src="data:image\/png;base64,/g)?.length, 3);
  assert(html.includes("쿡북에 이 차트가 없습니다"));
  // Summary table puts ours beside the cookbook's published values (base row: 99 vs 92 missing).
  assertMatch(
    html,
    /<td>HCX-003<\/td><td class="num">–<\/td><td class="num">–<\/td><td class="num">99<\/td><td class="num">92<\/td>/,
  );
  assertEquals(await renderReport(input), html);
});

Deno.test("renderReport: model output is escaped, never executable", async () => {
  const html = await renderReport(fixtureReportInput());
  assert(!/<script/i.test(html), "no <script> element anywhere");
  assert(html.includes("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  // The escaped payload is itself highlighted as an unknown mention.
  assert(html.includes(`<mark class="m-unknown"`));
  assert(!/\son[a-z]+\s*=/i.test(html), "no inline event handlers");
});

Deno.test("renderReport: loads nothing from the network", async () => {
  const html = await renderReport({ ...fixtureReportInput(), cookbookImages: fixtureImages() });
  assertNotMatch(
    html,
    /\s(?:src|href|xlink:href|action|poster|srcset)\s*=\s*["']?(?:https?:)?\/\//i,
  );
  assertNotMatch(html, /url\(\s*["']?(?:https?:)?\/\//i);
  assertNotMatch(html, /@import/i);
  assertNotMatch(html, /<(?:link|iframe|object|embed|script)\b/i);
  for (const m of html.matchAll(/\s(?:src|href)="([^"]*)"/g)) {
    assertMatch(
      m[1],
      /^(?:#|data:image\/png;base64,)/,
      `unexpected reference ${m[1].slice(0, 40)}`,
    );
  }
});

Deno.test("renderReport: secrets in config are redacted", async () => {
  const input = fixtureReportInput();
  input.config = {
    ...input.config,
    auth: { clientSecret: "s3cr3t-value", clientId: "id-visible" },
    ncpSecretKey: "another-secret",
  };
  const html = await renderReport(input);
  for (const secret of ["nv-should-never-appear", "s3cr3t-value", "another-secret"]) {
    assert(!html.includes(secret), `leaked ${secret}`);
  }
  assert(html.includes("id-visible"));
  assertEquals(redactConfig({ a: [{ accessKey: "x" }], b: 1 }), {
    a: [{ accessKey: "(redacted)" }],
    b: 1,
  });
});

Deno.test("highlightAnswer: marks mentions in place by line and order, escapes the rest", () => {
  const text = "아시아: 한국, 한국, <i>\n유럽: 프랑스 & 독일";
  const mentions = [
    mention("한국", 1, "correct", "asked-country"),
    mention("한국", 1, "repeat", "asked-country"),
    mention("<i>", 1, "extended", "unknown"),
    mention("프랑스", 2, "misplaced", "asked-country"),
    mention("없는말", 2, "extended", "other-country"),
  ];
  const html = highlightAnswer(text, mentions);
  assertEquals(
    html.replace(/ title="[^"]*"/g, ""),
    `아시아: <mark class="m-correct">한국</mark>, <mark class="m-extended">한국</mark>, ` +
      `<mark class="m-unknown">&lt;i&gt;</mark>\n유럽: <mark class="m-misclassified">프랑스</mark> &amp; 독일`,
  );
});

Deno.test("mentionResolution maps score statuses to the four highlight classes", () => {
  assertEquals(mentionResolution(mention("a", 1, "correct", "asked-country")), "correct");
  assertEquals(mentionResolution(mention("a", 1, "misplaced", "asked-country")), "misclassified");
  assertEquals(mentionResolution(mention("a", 1, "repeat", "asked-country")), "extended");
  assertEquals(mentionResolution(mention("a", 1, "extended", "other-country")), "extended");
  assertEquals(mentionResolution(mention("a", 1, "extended", "non-member")), "extended");
  assertEquals(mentionResolution(mention("a", 1, "extended", "unknown")), "unknown");
});

Deno.test("loadCookbookImages + writeReport: embeds the cookbook's PNGs in report.html", async () => {
  const images = await loadCookbookImages(COOKBOOK_DIR);
  const files = images.map((i) => i.file);
  assert(files.includes("chart_HCX-003_error_by_size.png"), `got ${files.join(", ")}`);
  const size = images.find((i) => i.file === "chart_HCX-DASH-001_error_by_country_count.png")!;
  assertEquals([size.model, size.chart], ["HCX-DASH-001", "countryCount"]);
  assertEquals(images.find((i) => i.file === "experiment_design.png")?.chart, "other");
  const bytes = await Deno.readFile(new URL("chart_HCX-003_error_by_size.png", COOKBOOK_DIR));
  const img = images.find((i) => i.file === "chart_HCX-003_error_by_size.png")!;
  const decoded = Uint8Array.from(atob(img.dataUri.split(",")[1]), (c) => c.charCodeAt(0));
  // Re-compressed losslessly: the same pixels in fewer bytes.
  assert(decoded.length < bytes.length, `${decoded.length} vs ${bytes.length}`);
  assertEquals(pixels(decoded), pixels(bytes));

  const dir = await Deno.makeTempDir();
  try {
    const path = await writeReport(join(dir, "run"), {
      ...fixtureReportInput(),
      cookbookImages: images,
    });
    assertEquals(path, join(dir, "run", "report.html"));
    const html = await Deno.readTextFile(path);
    assertEquals(html.match(/<img src="data:image\/png;base64,/g)?.length, images.length);
    assert(html.startsWith("<!doctype html>"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderReport: two models with the cookbook's published tables and figures", async () => {
  const published = await loadPublishedTables(COOKBOOK_DIR);
  const ours = ["HCX-003", "HCX-DASH-001"].flatMap((m) =>
    fixtureSizeSummaries(m).filter((r) => r.source === "this run")
  );
  const input = {
    ...fixtureReportInput(),
    sizeSummaries: [...published, ...ours],
    groupSummaries: [...fixtureGroupSummaries("HCX-DASH-001"), ...fixtureGroupSummaries()],
    cookbookImages: await loadCookbookImages(COOKBOOK_DIR),
  };
  const html = await renderReport(input);
  assertEquals(
    html.match(/<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" class="chart /g)?.length,
    6,
  );
  // Models in name order; each model's size chart sits next to its own cookbook figure.
  const i003 = html.indexOf('id="charts-HCX-003"');
  const iDash = html.indexOf('id="charts-HCX-DASH-001"');
  assert(i003 > 0 && iDash > i003);
  const dashSection = html.slice(iDash);
  assert(
    dashSection.indexOf("HCX-DASH-001 문제 발생 확률") <
      dashSection.indexOf("chart_HCX-DASH-001_error_by_size.png"),
  );
  // The cookbook's published error probability is marked on DASH's size chart.
  assert(dashSection.includes("쿡북 (cookbook) 500개 튜닝: 98%"));
  // The design figure (no model) is shown under "other cookbook figures".
  assert(html.includes("쿡북의 다른 그림") && html.includes("experiment_design.png"));
  // The published DASH 100개 row: 144 missing, 608 misclassified, 1,036 extended, 99%.
  assertMatch(
    html,
    /<td>100개 튜닝<\/td>(?:<td class="num">[^<]*<\/td>){3}<td class="num">144<\/td>/,
  );
  assert(html.includes(">1,036<"));
});

Deno.test("renderReport: config values as written — seed 2024, versions named once", async () => {
  const input = fixtureReportInput();
  input.config = {
    ...input.config,
    seed: 2024,
    versions: { deno: "2.9.6", "csv-stringify": "csv-stringify@6.9.0", git: "b629de9" },
  };
  const html = await renderReport(input);
  assert(html.includes('<th scope="row">seed</th><td>2024</td>'), "seed without grouping");
  assert(!html.includes("2,024"));
  assert(html.includes("deno: 2.9.6 · csv-stringify@6.9.0 · git: b629de9"));
});

Deno.test("the kept re-compressed cookbook figures are current and lossless; a stale one is redone", async () => {
  const compressed = new URL("compressed/", COOKBOOK_DIR);
  const sources = JSON.parse(await Deno.readTextFile(new URL("sources.json", compressed)));
  const originals: string[] = [];
  for await (const e of Deno.readDir(COOKBOOK_DIR)) {
    if (e.name.endsWith(".png")) originals.push(e.name);
  }
  assertEquals(Object.keys(sources).sort(), originals.sort(), "a copy for every figure");
  const text = (b: Uint8Array) => new TextDecoder("latin1").decode(b);
  for (const file of originals) {
    const original = await Deno.readFile(new URL(file, COOKBOOK_DIR));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", original));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    assertEquals(sources[file], hex, `${file}: made from the committed original`);
    const copy = await Deno.readFile(new URL(file, compressed));
    assertEquals(pixels(copy), pixels(original), file);
    assertEquals(text(copy).includes("iCCP"), text(original).includes("iCCP"), file);
    assert(copy.length < original.length, file);
  }
  // A figure changed since its copy was made is re-compressed on the spot, not served stale.
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "compressed"));
    const file = "chart_HCX-003_error_by_size.png";
    const other = await Deno.readFile(new URL("experiment_design.png", COOKBOOK_DIR));
    await Deno.writeFile(join(dir, file), other);
    await Deno.copyFile(fileURLToPath(new URL(file, compressed)), join(dir, "compressed", file));
    await Deno.writeTextFile(join(dir, "compressed", "sources.json"), JSON.stringify(sources));
    const [image] = await loadCookbookImages(dir);
    const embedded = Uint8Array.from(atob(image.dataUri.split(",")[1]), (c) => c.charCodeAt(0));
    assertEquals(pixels(embedded), pixels(other));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("recompressPng: every cookbook figure keeps its pixels and colour profile, a third smaller", async () => {
  let before = 0;
  let after = 0;
  for await (const e of Deno.readDir(COOKBOOK_DIR)) {
    if (!e.name.endsWith(".png")) continue;
    const bytes = await Deno.readFile(new URL(e.name, COOKBOOK_DIR));
    const out = await recompressPng(bytes);
    assertEquals(pixels(out), pixels(bytes), e.name);
    const text = (b: Uint8Array) => new TextDecoder("latin1").decode(b);
    assertEquals(text(bytes).includes("iCCP"), text(out).includes("iCCP"), e.name);
    before += bytes.length;
    after += out.length;
  }
  assert(after < 0.75 * before, `${after} of ${before} bytes`);
  // Not 8-bit truecolour (here: not a PNG at all) passes through untouched.
  const other = new Uint8Array([1, 2, 3]);
  assertEquals(await recompressPng(other), other);
});
