/**
 * The self-contained HTML report of one run (`results/<run-id>/report.html`): run configuration
 * and backend, dataset statistics, the summary tables beside the cookbook's published ones, the
 * charts beside the cookbook's own chart images, and a drill-down of the worst answers with every
 * mention highlighted by how it was judged.
 *
 * The page needs no network: CSS and SVG are inline and the cookbook's PNGs are embedded as
 * `data:` URIs. All model output is HTML-escaped; config keys that look like secrets are redacted.
 * @module
 */
import { cookbookCounterpart } from "../backends/mod.ts";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type GroupBy, type GroupSummary, sizeLabel, type SizeSummary } from "../analysis/mod.ts";
import {
  CHART_FONT_STACK,
  CHART_WIDTH,
  errorByGroupChart,
  errorBySizeChart,
  groupLabel,
} from "./charts.ts";
import { EMBEDDED_FONT_LICENCE, embeddedFontCss } from "./fonts.ts";
import { readCompressedCopies } from "./png.ts";
import {
  type Cell,
  escapeHtml,
  htmlTable,
  keyValueTable,
  trustedHtml,
  writeFileAtomic,
} from "../io/mod.ts";
import type { Mention } from "../scoring/mod.ts";
import type {
  BackendInfo,
  DatasetEntry,
  DatasetStats,
  RunSummary,
  ScoredAnswer,
} from "../run/mod.ts";
import { COUNTRY_TERMS, type TaskRecord, type TaskTerms } from "../tasks/mod.ts";
import {
  STATISTICS_CSS,
  STATISTICS_SECTIONS,
  statisticsSections,
  type StatsRun,
} from "./statsReport.ts";

export type { BackendInfo };

/** One of the cookbook's chart images, embedded as a data URI. */
export interface CookbookImage {
  /** File name, e.g. `chart_HCX-003_error_by_size.png`. */
  file: string;
  /** Model the chart is about, or null (e.g. the experiment design figure). */
  model: string | null;
  /** Which of our charts it corresponds to. */
  chart: "size" | GroupBy | "other";
  /** `data:image/png;base64,…` */
  dataUri: string;
}

/** Everything {@link renderReport} needs. */
export interface RunReportInput {
  runId: string;
  /** ISO timestamp of the run's creation. */
  created: string;
  backend: BackendInfo;
  /** Run configuration (models, sizes, seeds, parameters…); secret-looking keys are redacted. */
  config: Record<string, unknown>;
  datasets: readonly DatasetEntry[];
  sizeSummaries: readonly SizeSummary[];
  groupSummaries: readonly GroupSummary[];
  /** Worst answers, already ordered (worst first). */
  worstAnswers: readonly ScoredAnswer[];
  cookbookImages: readonly CookbookImage[];
  /** Optional free-text remarks shown under the run section. */
  notes?: readonly string[];
  /** The run's statistics (curves, paired comparisons, countries, cost), when computed. */
  statistics?: StatsRun;
  /** The run's task, when `--task` named one (absent: the cookbook's country task). */
  task?: TaskRecord;
  /** The words for items and groups (default the country task's: 국가 / 대륙). */
  terms?: TaskTerms;
  /** For a dataset you bring scored by `label`: expected × answered labels per model × size. */
  labelConfusion?: RunSummary["labelConfusion"];
}

/** How the report colours a mention. */
export type MentionResolution = "correct" | "misclassified" | "extended" | "unknown";

/** Where the cookbook's figures came from (shown beside every cookbook figure). */
export const COOKBOOK_BACKEND =
  "CLOVA Studio, 2024 (api-hyperclova.navercorp.com, HyperCLOVA X) — 쿡북 게시 값";

const SECRET_KEY = /secret|password|passwd|token|api[-_]?key|access[-_]?key|apigw|authorization/i;

/** Maps a scored mention to the report's four highlight classes. */
export function mentionResolution(m: Mention): MentionResolution {
  if (m.status === "correct") return "correct";
  if (m.status === "misplaced") return "misclassified";
  if (m.kind === "unknown") return "unknown";
  return "extended";
}

/**
 * Reads the cookbook's PNG figures from `dir` (default `data/cookbook/`) as data URIs, each
 * re-compressed losslessly (same pixels and colour profile, about a third fewer bytes). The
 * figures never change, so their re-compressed copies are made once (`deno run -A lib/report/png.ts
 * data/cookbook`) and kept in `compressed/` with the SHA-256 of the original each was made from;
 * a figure whose copy is missing or was made from other bytes is re-compressed here.
 */
export async function loadCookbookImages(
  dir: string | URL = new URL("../../data/cookbook/", import.meta.url),
): Promise<CookbookImage[]> {
  const base = typeof dir === "string" ? dir : fileURLToPath(dir);
  const files: string[] = [];
  for await (const e of Deno.readDir(base)) {
    if (e.isFile && e.name.toLowerCase().endsWith(".png")) files.push(e.name);
  }
  files.sort();
  const copies = await readCompressedCopies(base);
  const out: CookbookImage[] = [];
  for (const file of files) {
    const bytes = await copies.get(file, await Deno.readFile(join(base, file)));
    const m = /^chart_(.+)_error_by_(size|country_count|continent_count)\.png$/i.exec(file);
    const chart = !m
      ? "other"
      : m[2] === "size"
      ? "size"
      : m[2] === "country_count"
      ? "countryCount"
      : "continentCount";
    out.push({
      file,
      model: m ? m[1] : null,
      chart,
      dataUri: `data:image/png;base64,${base64(bytes)}`,
    });
  }
  return out;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/**
 * Renders an answer as HTML with every mention wrapped in
 * `<mark class="m-<resolution>">`; everything else is escaped text. Mentions are located by
 * their line number and raw text, in order; a mention that cannot be found is left unmarked.
 */
export function highlightAnswer(text: string, mentions: readonly Mention[]): string {
  const lines = text.split(/\r?\n/);
  const byLine = new Map<number, Mention[]>();
  for (const m of mentions) {
    const list = byLine.get(m.line) ?? [];
    list.push(m);
    byLine.set(m.line, list);
  }
  return lines.map((line, idx) => {
    const list = byLine.get(idx + 1) ?? [];
    let out = "";
    let cursor = 0;
    for (const m of list) {
      const at = m.raw ? line.indexOf(m.raw, cursor) : -1;
      if (at < 0) continue;
      const res = mentionResolution(m);
      out += escapeHtml(line.slice(cursor, at)) +
        `<mark class="m-${res}" title="${escapeHtml(mentionTitle(m))}">` +
        `${escapeHtml(m.raw)}</mark>`;
      cursor = at + m.raw.length;
    }
    return out + escapeHtml(line.slice(cursor));
  }).join("\n");
}

const RESOLUTION_LABEL: Record<MentionResolution, string> = {
  correct: "정답 (correct)",
  misclassified: "오분류 (misclassified)",
  extended: "확장 (extended)",
  unknown: "알 수 없음 (unknown)",
};

function mentionTitle(m: Mention): string {
  const res = RESOLUTION_LABEL[mentionResolution(m)];
  const where = m.label ? ` · 라벨 "${m.label}"` : "";
  const what = m.name ? ` · ${m.name}${m.continent ? ` (${m.continent})` : ""}` : "";
  return `${res}${m.status === "repeat" ? " · 중복 (repeat)" : ""}${where}${what}`;
}

// ---------------------------------------------------------------------------------------------
// Formatting helpers

function pct(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : "–";
}

function num(x: number | null | undefined, digits?: number): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return digits === undefined ? x.toLocaleString("en-US") : x.toFixed(digits);
}

/**
 * A config value on one line, as written in `run.json`: numbers without digit grouping (a seed is
 * an identifier, not a count), and `name: name@1.2.3` shortened to `name@1.2.3`.
 */
function inlineValue(v: unknown): string {
  if (v === null || v === undefined) return "–";
  if (Array.isArray(v)) return v.map(inlineValue).join(", ");
  if (typeof v === "object") {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) =>
        typeof x === "string" && x.startsWith(`${k}@`) ? x : `${k}: ${inlineValue(x)}`
      )
      .join(" · ");
  }
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(4);
  return String(v);
}

/** Replaces the values of secret-looking keys (at any depth) with "(redacted)". */
export function redactConfig(config: Record<string, unknown>): Record<string, unknown> {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map((
          [k, x],
        ) => [k, SECRET_KEY.test(k) ? "(redacted)" : walk(x)]),
      );
    }
    return v;
  };
  return walk(config) as Record<string, unknown>;
}

/** The models this run answered with (the cookbook's published models get no section of their own). */
function modelsOf(input: RunReportInput): string[] {
  const set = new Set<string>();
  for (const r of input.sizeSummaries) if (r.source !== "cookbook") set.add(r.model);
  for (const r of input.groupSummaries) if (r.source !== "cookbook") set.add(r.model);
  return [...set].sort();
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, "-");
}

// ---------------------------------------------------------------------------------------------
// Sections

/** How the report names each kind of backend. */
const BACKEND_KIND_LABEL: Record<BackendInfo["kind"], string> = {
  emulator: "로컬 에뮬레이터 (emulator)",
  local: "로컬 에뮬레이터, 로컬 모델 (local)",
  "clova-studio": "CLOVA Studio",
};

function runSection(input: RunReportInput): string {
  const b = input.backend;
  const backendRows: [string, Cell][] = [
    ["이번 실행의 수치 (this run's figures)", `${b.name}${b.url ? ` — ${b.url}` : ""}`],
    [
      "백엔드 종류 (backend kind)",
      BACKEND_KIND_LABEL[b.kind],
    ],
    ...((input.terms ?? COUNTRY_TERMS).cookbook
      ? [["쿡북 수치 (cookbook figures)", COOKBOOK_BACKEND] as [string, Cell]]
      : []),
  ];
  const task = input.task;
  if (task) {
    backendRows.push([
      "과제 (task)",
      task.kind === "taxonomy"
        ? `${task.name} — ${task.taxonomy.items}개 ${task.labels.item}, ` +
          `${task.taxonomy.groups.length}개 ${task.labels.group} (${task.taxonomy.source}); ` +
          `채점 (scorer) ${task.scorer}`
        : `${task.name} — 튜닝 ${task.train.rows}행 (${task.train.file}), 평가 ${task.eval.prompts}개 ` +
          `(${task.eval.file}); 채점 (scorer) ${task.scorer}`,
    ]);
  }
  if (b.note) backendRows.push(["비고 (note)", b.note]);
  const config = Object.entries(redactConfig(input.config)).map(([k, v]) =>
    [k, inlineValue(v)] as [string, Cell]
  );
  const notes = (input.notes ?? []).map((n) => `<p class="note">${escapeHtml(n)}</p>`).join("");
  return `<section id="run"><h2>실행 설정과 백엔드 <small>(run configuration and backend)</small></h2>
<div class="cols">
${keyValueTable(backendRows, { caption: "백엔드 (backend)", className: "kv" })}
${keyValueTable(config, { caption: "설정 (config)", className: "kv" })}
</div>${notes}</section>`;
}

function mix(shares: DatasetStats["byCountryCount"], by: GroupBy, terms: TaskTerms): Cell {
  // Each "10개국 25" stays on one line; lines wrap only between items.
  return trustedHtml(
    shares.map((m) =>
      `<span class="nw">${escapeHtml(`${groupLabel(by, m.value, terms)} ${num(m.rows)}`)}</span>`
    )
      .join(" · "),
  );
}

function datasetSection(input: RunReportInput): string {
  const t = input.terms ?? COUNTRY_TERMS;
  if (input.datasets.length === 0) {
    return `<section id="datasets"><h2>데이터셋 통계 <small>(dataset statistics)</small></h2>
<p>데이터셋 정보 없음 (none)</p></section>`;
  }
  const overview = htmlTable(
    [
      "데이터셋 (dataset)",
      "파일 (file)",
      "행 (rows)",
      "질문 글자 수 평균 (text chars, mean)",
      "답 글자 수 평균 (completion chars, mean)",
      "총 글자 수 (total chars)",
      `${t.item} 수 구성 (by ${t.itemEn} count)`,
      `${t.group} 수 구성 (by ${t.groupEn} count)`,
      `사용 ${t.item} (${t.itemsEn} used)`,
      `중복 ${t.item} 집합 (duplicate sets)`,
    ],
    input.datasets.map(({ name, file, stats: s }) => [
      name,
      file ?? "–",
      s.rows,
      num(s.textChars.mean, 1),
      s.completionChars ? num(s.completionChars.mean, 1) : "–",
      num(s.totalChars),
      mix(s.byCountryCount, "countryCount", t),
      mix(s.byContinentCount, "continentCount", t),
      `${s.coverage.used}/${s.coverage.countries} (${s.coverage.list})` +
      (s.coverage.unknown.length ? ` · 목록 밖 ${s.coverage.unknown.length}` : ""),
      `${s.duplicates.rows}행 / ${s.duplicates.sets}집합`,
    ]),
    { className: "summary", numeric: [2, 3, 4, 5] },
  );
  const crossed = input.datasets.filter((d) => d.stats.completionChars === null).map((d) => {
    const countries = [...new Set(d.stats.cells.map((c) => c.countryCount))].sort((a, b) => a - b);
    const continents = [...new Set(d.stats.cells.map((c) => c.continentCount))].sort((a, b) =>
      a - b
    );
    const at = new Map(d.stats.cells.map((c) => [`${c.countryCount}/${c.continentCount}`, c.rows]));
    return htmlTable(
      [
        `${t.item} 수 \\ ${t.group} 수`,
        ...continents.map((c) => groupLabel("continentCount", c, t)),
      ],
      countries.map((n) => [
        groupLabel("countryCount", n, t),
        ...continents.map((c) => at.get(`${n}/${c}`) ?? 0),
      ]),
      {
        caption: `${d.name}: ${t.item} 수 × ${t.group} 수 ` +
          `(prompts per ${t.itemEn} count × ${t.groupEn} count)`,
        numeric: continents.map((_, i) => i + 1),
      },
    );
  });
  return `<section id="datasets"><h2>데이터셋 통계 <small>(dataset statistics)</small></h2>
<div class="scroll">${overview}</div>
<div class="cols">${crossed.join("\n")}</div>
</section>`;
}

/**
 * One model's summary by tuning size with this run and the cookbook paired column by column
 * (train loss, 누락, 오분류, 확장, error probability): "this run | cookbook" side by side.
 */
export function sizeComparisonTable(rows: readonly SizeSummary[], model: string): string {
  const ours = new Map(
    rows.filter((r) => r.model === model && r.source === "this run").map((r) => [r.size, r]),
  );
  const book = new Map(
    rows.filter((r) => r.model === model && r.source === "cookbook").map((r) => [r.size, r]),
  );
  const sizes = [...new Set([...ours.keys(), ...book.keys()])].sort((a, b) => a - b);
  const body: Cell[][] = sizes.map((s) => {
    const o = ours.get(s);
    const c = book.get(s);
    return [
      sizeLabel(model, s),
      num(o?.trainLoss, 4),
      num(c?.trainLoss, 4),
      num(o?.missing),
      num(c?.missing),
      num(o?.misclassified),
      num(c?.misclassified),
      num(o?.extended),
      num(c?.extended),
      o ? `${pct(o.errorRate)} (${o.errors}/${o.answers})` : "–",
      o ? `${pct(o.errorLow)}–${pct(o.errorHigh)}` : "–",
      c ? pct(c.errorRate) : "–",
    ];
  });
  return htmlTable(
    [
      "튜닝 개수",
      "이번",
      "쿡북",
      "이번",
      "쿡북",
      "이번",
      "쿡북",
      "이번",
      "쿡북",
      "이번",
      "95% CI",
      "쿡북",
    ],
    body,
    {
      caption:
        `${model}: 튜닝 크기별 요약 (summary by tuning size) — 이번 실행 (this run) vs 쿡북 (cookbook${
          cookbookCounterpart(model) === model ? "" : `: ${cookbookCounterpart(model)}`
        })`,
      className: "summary",
      numeric: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
      groupHeaders: [
        { label: "", span: 1 },
        { label: "Train loss", span: 2 },
        { label: "누락 (missing)", span: 2 },
        { label: "오분류 (misclassified)", span: 2 },
        { label: "확장 (extended)", span: 2 },
        { label: "오류 확률 (error probability)", span: 3 },
      ],
    },
  );
}

/**
 * One model's error probability by country count (or continent count) in compact wide form: a row
 * per tuning size, a column per group value, this run's columns then the cookbook's (if any).
 */
export function groupComparisonTable(
  rows: readonly GroupSummary[],
  model: string,
  by: GroupBy,
  terms: TaskTerms = COUNTRY_TERMS,
): string {
  const data = rows.filter((r) => r.model === model && r.by === by);
  if (data.length === 0) return "";
  const values = [...new Set(data.map((r) => r.value))].sort((a, b) => a - b);
  const sizes = [...new Set(data.map((r) => r.size))].sort((a, b) => a - b);
  const sources = (["this run", "cookbook"] as const).filter((s) =>
    data.some((r) => r.source === s)
  );
  const key = (src: string, size: number, value: number) => `${src}|${size}|${value}`;
  const idx = new Map(data.map((r) => [key(r.source, r.size, r.value), r]));
  const headers: Cell[] = ["튜닝 개수"];
  for (const src of sources) {
    for (const v of values) {
      headers.push(`${groupLabel(by, v, terms)}${src === "cookbook" ? " (쿡북)" : ""}`);
    }
  }
  const body: Cell[][] = sizes.map((s) => {
    const row: Cell[] = [sizeLabel(model, s)];
    for (const src of sources) {
      for (const v of values) {
        const r = idx.get(key(src, s, v));
        row.push(
          !r
            ? "–"
            : src === "this run"
            ? `${pct(r.errorRate)} (${r.errors}/${r.answers})`
            : pct(r.errorRate),
        );
      }
    }
    return row;
  });
  const what = by === "countryCount"
    ? `${terms.item} 개수별 (by ${terms.itemEn} count)`
    : `${terms.group} 개수별 (by ${terms.groupEn} count)`;
  return htmlTable(headers, body, {
    caption: `${model}: ${what} 오류 확률 (error probability)`,
    className: "summary",
    numeric: headers.map((_, i) => i).slice(1),
  });
}

function tablesSection(input: RunReportInput, models: readonly string[]): string {
  const t = input.terms ?? COUNTRY_TERMS;
  const parts = models.map((m) =>
    `<h3 id="tables-${slug(m)}">${escapeHtml(m)}</h3>
<div class="scroll">${sizeComparisonTable(input.sizeSummaries, m)}</div>
<div class="scroll">${groupComparisonTable(input.groupSummaries, m, "countryCount", t)}</div>
<div class="scroll">${groupComparisonTable(input.groupSummaries, m, "continentCount", t)}</div>`
  );
  return `<section id="tables"><h2>요약 표 <small>(summary tables)</small></h2>
<p>오류 확률 = 누락·오분류·확장 중 하나라도 있거나 형식 오류인 답변의 비율. 신뢰구간은 Wilson 95%.
<br><span class="en">Error probability = share of answers with any missing, misclassified or extended
${t.itemEn}, or a format error; intervals are Wilson 95%.${
    t.cookbook ? " Cookbook values are as published." : ""
  }</span></p>
${parts.join("\n")}</section>`;
}

/**
 * The label confusion of a `label` task: per model, one table per size (expected label in rows,
 * the label the answer named in columns, `(none)` for none or several); the largest size open.
 */
function labelSection(input: RunReportInput): string {
  const tables = input.labelConfusion ?? [];
  if (tables.length === 0) return "";
  const models = [...new Set(tables.map((t) => t.model))];
  const parts = models.map((m) => {
    const mine = tables.filter((t) => t.model === m);
    return `<h3>${escapeHtml(m)}</h3>\n` + mine.map((t, i) => {
      const columns = [...t.labels, "(none)"];
      const table = htmlTable(
        ["정답 \\ 답 (expected \\ answered)", ...columns],
        t.labels.filter((l) => t.counts[l]).map((l) => [
          l,
          ...columns.map((c) => t.counts[l]?.[c] ?? 0),
        ]),
        {
          caption: `${m} · ${sizeLabel(m, t.size)}`,
          className: "summary",
          numeric: columns.map((_, k) => k + 1),
        },
      );
      return `<details${i === mine.length - 1 ? " open" : ""}><summary>${
        escapeHtml(sizeLabel(m, t.size))
      }</summary><div class="scroll">${table}</div></details>`;
    }).join("\n");
  });
  return `<section id="labels"><h2>라벨 혼동표 <small>(label confusion)</small></h2>
<p>행 = 정답 라벨, 열 = 답이 말한 라벨 ((none): 아는 라벨이 없거나 둘 이상).
<br><span class="en">Rows: the expected label; columns: the label the answer named ((none): no
known label, or several).</span></p>
${parts.join("\n")}</section>`;
}

function figure(inner: string, caption: string, cls = ""): string {
  return `<figure class="fig ${cls}">${inner}<figcaption>${
    escapeHtml(caption)
  }</figcaption></figure>`;
}

function chartsSection(input: RunReportInput, models: readonly string[]): string {
  const t = input.terms ?? COUNTRY_TERMS;
  if (!t.cookbook) return taskChartsSection(input, models, t);
  const ours = `이번 실행 (this run): ${input.backend.name}`;
  const book = `쿡북 원본 차트 (cookbook's figure): ${COOKBOOK_BACKEND}`;
  const image = (model: string, chart: CookbookImage["chart"]) => {
    const cp = cookbookCounterpart(model);
    const img = input.cookbookImages.find((i) => i.model === cp && i.chart === chart);
    return img
      ? figure(
        `<img src="${img.dataUri}" alt="${escapeHtml(`쿡북 ${img.file}`)}">`,
        `${book} — ${img.file}`,
        "cookbook",
      )
      : figure(
        `<div class="missing-fig">쿡북에 이 차트가 없습니다 (no cookbook figure for this chart)</div>`,
        "쿡북 (cookbook)",
        "cookbook",
      );
  };
  const parts = models.map((m) =>
    `<h3 id="charts-${slug(m)}">${escapeHtml(m)}</h3>
<div class="pair">${figure(errorBySizeChart(input.sizeSummaries, m), ours)}${image(m, "size")}</div>
<div class="pair">${figure(errorByGroupChart(input.groupSummaries, m, "countryCount"), ours)}${
      image(m, "countryCount")
    }</div>
<div class="pair">${figure(errorByGroupChart(input.groupSummaries, m, "continentCount"), ours)}${
      image(m, "continentCount")
    }</div>`
  );
  const others = input.cookbookImages.filter((i) =>
    i.chart === "other" || !models.includes(i.model ?? "")
  );
  const otherFigs = others.length
    ? `<h3>쿡북의 다른 그림 (other cookbook figures)</h3><div class="pair">${
      others.map((i) =>
        figure(
          `<img src="${i.dataUri}" alt="${escapeHtml(i.file)}">`,
          `쿡북 (cookbook): ${i.file}`,
          "cookbook",
        )
      ).join("")
    }</div>`
    : "";
  return `<section id="charts"><h2>차트 <small>(charts: this run beside the cookbook)</small></h2>
<p>왼쪽: 이번 실행의 차트 (막대 = 오류 확률, 선 = 국가 수). 오른쪽: 쿡북에 게시된 원본 그림.
<br><span class="en">Left: this run's charts (cookbook values overlaid where published). Right: the
cookbook's own figures.</span></p>
${parts.join("\n")}${otherFigs}</section>`;
}

/** The charts of a run of another task: this run's alone (the cookbook has none of them). */
function taskChartsSection(
  input: RunReportInput,
  models: readonly string[],
  t: TaskTerms,
): string {
  const ours = `이번 실행 (this run): ${input.backend.name}`;
  const parts = models.map((m) =>
    `<h3 id="charts-${slug(m)}">${escapeHtml(m)}</h3>
<div class="pair">${figure(errorBySizeChart(input.sizeSummaries, m, t), ours)}</div>
<div class="pair">${
      figure(errorByGroupChart(input.groupSummaries, m, "countryCount", t), ours)
    }</div>
<div class="pair">${
      figure(errorByGroupChart(input.groupSummaries, m, "continentCount", t), ours)
    }</div>`
  );
  return `<section id="charts"><h2>차트 <small>(charts)</small></h2>
<p>이번 실행의 차트 (막대 = 오류 확률, 선 = ${escapeHtml(t.item)} 수).
<br><span class="en">This run's charts: error probability by tuning size, by ${t.itemEn} count and
by ${t.groupEn} count.</span></p>
${parts.join("\n")}</section>`;
}

function answerBlock(
  { record: a, score: s }: ScoredAnswer,
  rank: number,
  t: TaskTerms = COUNTRY_TERMS,
): string {
  const missing = new Set(s.missingCountries);
  const misclassified = new Set(s.misclassifiedCountries);
  const asked = a.prompt.countries.map((c) => {
    const cls = missing.has(c) ? "a-missing" : misclassified.has(c) ? "a-misclassified" : "a-ok";
    return `<span class="chip ${cls}">${escapeHtml(c)}</span>`;
  }).join(" ");
  const text = a.text === null
    ? `<em>(답변 없음 — no answer)</em>`
    : highlightAnswer(a.text, s.mentions);
  const mentionRows: Cell[][] = s.mentions.map((m) => {
    const res = mentionResolution(m);
    return [
      m.line,
      m.label,
      trustedHtml(`<mark class="m-${res}">${escapeHtml(m.raw)}</mark>`),
      m.name ?? "–",
      m.continent ?? "–",
      RESOLUTION_LABEL[res] + (m.status === "repeat" ? " · 중복 (repeat)" : ""),
    ];
  });
  const flags = [
    `누락 ${s.missing}`,
    `오분류 ${s.misclassified}`,
    `확장 ${s.extended}`,
    ...(s.formatError ? ["형식 오류 (format error)"] : []),
  ].join(" · ");
  return `<article class="answer" id="answer-${rank}">
<h3>#${rank} ${escapeHtml(a.label)} · ${escapeHtml(a.prompt.id)} · 반복 ${a.repeat}
<small>${escapeHtml(flags)}</small></h3>
<p class="asked">질문한 ${t.item} (asked, ${t.items(a.prompt.countryCount)} · ${
    t.groups(a.prompt.continentCount)
  }): ${asked}</p>
<pre class="answer-text">${text}</pre>
<details><summary>언급 목록 (mentions: ${s.mentions.length})</summary>
${
    htmlTable(["줄", "라벨", "원문", "해석", t.group, "판정"], mentionRows, {
      className: "mentions",
      numeric: [0],
    })
  }
</details></article>`;
}

function worstSection(input: RunReportInput): string {
  return worstAnswersSection([{ answers: input.worstAnswers }], input.terms);
}

/**
 * The worst-answers drill-down (`<section id="worst">`) of one run or several (one heading per
 * named group), each group's answers under a heading per tuning size (as `worstAnswerKeys` in
 * `lib/analysis/tables.ts` picks them).
 */
export function worstAnswersSection(
  groups: readonly { name?: string; answers: readonly ScoredAnswer[] }[],
  terms: TaskTerms = COUNTRY_TERMS,
): string {
  const legend = (Object.keys(RESOLUTION_LABEL) as MentionResolution[])
    .map((r) => `<mark class="m-${r}">${escapeHtml(RESOLUTION_LABEL[r])}</mark>`)
    .join(" ");
  const chips = `<span class="chip a-missing">누락 (missing)</span> ` +
    `<span class="chip a-misclassified">오분류 (misclassified)</span> ` +
    `<span class="chip a-ok">정답 (correct)</span>`;
  let rank = 0;
  const body = groups.map((g) => {
    const sizes = [...new Set(g.answers.map((a) => a.record.size))];
    const head = g.name ? `<h3>${escapeHtml(g.name)}</h3>\n` : "";
    if (g.answers.length === 0) {
      return `${head}<p>오류가 있는 답변이 없습니다 (no answer with an error).</p>`;
    }
    return head + sizes.map((size) => {
      const title = size === 0
        ? "기본 모델 (base models, untuned)"
        : `${size.toLocaleString("en-US")}개 튜닝 (tuned on ${size.toLocaleString("en-US")} rows)`;
      return `<h4 class="worst-size">${escapeHtml(title)}</h4>\n` +
        g.answers.filter((a) => a.record.size === size).map((a) => answerBlock(a, ++rank, terms))
          .join("\n");
    }).join("\n");
  }).join("\n");
  return `<section id="worst"><h2>가장 나쁜 답변 <small>(worst answers drill-down)</small></h2>
<p>튜닝 크기마다 누락 + 오분류 + 확장이 가장 많은 답변 (the worst answers of each tuning size, so the
untuned base model does not crowd out the rest). 답변 속 언급: ${legend}<br>질문한 ${terms.item}: ${chips}</p>
${body}</section>`;
}

/** Styles of the answer drill-down (also used by {@link worstAnswersHtml}). */
const ANSWER_CSS = `
article.answer { border-top: 1px solid var(--line); padding-top: 6px; }
pre.answer-text { background: #fafbfc; border: 1px solid var(--line); padding: 10px;
  white-space: pre-wrap; word-break: break-word; font-family: ${CHART_FONT_STACK}; font-size: 14px; }
mark { border-radius: 3px; padding: 0 2px; }
mark.m-correct { background: #d4f1dc; color: #14532d; }
mark.m-misclassified { background: #ffe1a8; color: #7a4b00; }
mark.m-extended { background: #ffd1d1; color: #7f1d1d; }
mark.m-unknown { background: #e4dcf7; color: #3d2a78; text-decoration: underline wavy; }
.chip { display: inline-block; border-radius: 10px; padding: 0 8px; margin: 1px 0; font-size: 13px; }
.chip.a-ok { background: #e6f4ea; }
.chip.a-missing { background: #fde2e1; text-decoration: line-through; }
.chip.a-misclassified { background: #ffe9c2; }
`;

const CSS = `
:root { --fg: #1f2430; --muted: #5b6475; --line: #d9dee7; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font-family: ${CHART_FONT_STACK}; color: var(--fg); background: var(--bg);
  line-height: 1.5; font-size: 14px; }
header { background: #1d2a45; color: #fff; padding: 18px 28px; }
header h1 { margin: 0; font-size: 22px; }
header p { margin: 4px 0 0; color: #c9d3e6; }
nav { padding: 8px 28px; background: #fff; border-bottom: 1px solid var(--line); }
nav a { margin-right: 16px; color: #3f6fd8; text-decoration: none; }
main { padding: 8px 20px 40px; max-width: 1680px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 18px;
  margin: 18px 0; }
h2 { font-size: 19px; margin: 6px 0 12px; border-bottom: 2px solid #3f6fd8; padding-bottom: 4px; }
h2 small, h3 small { color: var(--muted); font-weight: normal; font-size: 0.75em; }
h3 { font-size: 16px; margin: 18px 0 8px; }
.en { color: var(--muted); }
.note { color: var(--muted); }
.cols { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
table { border-collapse: collapse; margin: 6px 0 14px; font-size: 13px; }
caption { text-align: left; font-weight: bold; padding: 4px 0; }
th, td { border: 1px solid var(--line); padding: 3px 8px; vertical-align: top;
  word-break: keep-all; overflow-wrap: break-word; }
.nw { white-space: nowrap; }
thead th { background: #eef1f6; }
table.kv { min-width: 240px; }
table.kv caption { white-space: nowrap; }
table.kv th { text-align: left; background: #f4f6fa; font-weight: normal; color: var(--muted); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { overflow-x: auto; }
.pair { display: grid; gap: 16px; align-items: start; margin-bottom: 12px;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, ${CHART_WIDTH + 18}px), 1fr)); }
figure.fig { margin: 0; border: 1px solid var(--line); border-radius: 4px; padding: 8px;
  background: #fff; }
figure.fig svg, figure.fig img { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
.missing-fig { padding: 40px; text-align: center; color: var(--muted); background: #fafbfc; }
${ANSWER_CSS}footer { color: var(--muted); padding: 0 28px 28px; font-size: 12px; }
`;

/** The report's page styles (for other pages in the same look, such as the run comparison). */
export const REPORT_CSS: string = CSS;

/**
 * The worst-answers drill-down alone, with its styles, as an HTML fragment (for notebooks). All
 * model output in it is escaped.
 */
export function worstAnswersHtml(answers: readonly ScoredAnswer[]): string {
  const section = worstSection({ worstAnswers: answers } as RunReportInput);
  return `<div><style>:root { --line: #d9dee7; --muted: #5b6475; }${ANSWER_CSS}</style>${section}</div>`;
}

/**
 * Renders the whole report as one self-contained HTML document. The embedded font (see
 * `lib/report/fonts.ts`) is subset to exactly the characters of the page.
 */
export async function renderReport(input: RunReportInput): Promise<string> {
  const page = reportPage(input);
  const fonts = await embeddedFontCss(page);
  return page.replace("<style>", () => `<style>${fonts}`);
}

function reportPage(input: RunReportInput): string {
  const models = modelsOf(input);
  const t = input.terms ?? COUNTRY_TERMS;
  const title = `${t.title} LoRA 튜닝 재현 보고서 — ${input.runId}`;
  return `<!doctype html>
<html lang="ko"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}${STATISTICS_CSS}</style></head>
<body>
<header><h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(t.titleEn)} LoRA tuning reproduction report · 생성 (created) ${
    escapeHtml(input.created)
  } · 백엔드 (backend): ${escapeHtml(input.backend.name)}</p></header>
<nav><a href="#run">실행 (run)</a><a href="#datasets">데이터셋 (datasets)</a>` +
    `<a href="#tables">표 (tables)</a><a href="#charts">차트 (charts)</a>` +
    (input.statistics
      ? STATISTICS_SECTIONS.filter((x) =>
        x.id !== "runs" && (x.id !== "countries" || input.task?.kind !== "dataset")
      ).map((x) =>
        `<a href="#${x.id}">${escapeHtml(x.id === "countries" ? `${t.item}별 오류` : x.label)}</a>`
      ).join("")
      : "") +
    `<a href="#worst">나쁜 답변 (worst answers)</a></nav>
<main>
${runSection(input)}
${datasetSection(input)}
${tablesSection(input, models)}
${labelSection(input)}
${chartsSection(input, models)}
${
      input.statistics
        ? statisticsSections([input.statistics], {
          cookbook: input.sizeSummaries.filter((r) => r.source === "cookbook"),
          terms: t,
          perItem: input.task?.kind !== "dataset",
        })
        : ""
    }
${worstSection(input)}
</main>
<footer>이 파일은 네트워크 없이 열립니다 (self-contained: inline CSS/SVG, embedded images and font).
쿡북 수치 출처: ${escapeHtml(COOKBOOK_BACKEND)}. 글꼴 (font): ${
      escapeHtml(EMBEDDED_FONT_LICENCE)
    }.</footer>
</body></html>
`;
}

/** Writes `report.html` into `dir` (created if needed), atomically, and returns its path. */
export async function writeReport(dir: string, input: RunReportInput): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, "report.html");
  await writeFileAtomic(path, await renderReport(input));
  return path;
}
