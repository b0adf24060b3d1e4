/**
 * The run comparison: one self-contained HTML report that overlays several runs (different
 * backends, orders, seeds or dates) on the same charts and tables, each run named by its backend
 * (plus what sets it apart). It reads the run folders — each run's `summary.json` (made in a
 * temporary folder when a run has none yet, or one for another `--target`) and its journals for
 * the pairing — and writes nothing into them.
 *
 * The statistics sections are the ones the single-run report shows (`lib/report/statsReport.ts`), given
 * several runs instead of one; runs that answered the same prompts (same seed and prompt count:
 * the shuffled and grouped orders draw the same evaluation set) are compared pairwise at equal
 * sizes, others unpaired.
 *
 * @module
 */
import { join } from "node:path";
import { COUNTRY_TERMS, isCountryTask, runScoring, termsOf } from "../tasks/mod.ts";
import {
  compareArms,
  type Comparison,
  loadPublishedTables,
  type RunStatistics,
  RunStatisticsSchema,
  type SizeSummary,
} from "../analysis/mod.ts";
import { getTaxonomy } from "../countries/mod.ts";
import { escapeHtml, htmlTable, writeFileAtomic } from "../io/mod.ts";
import { REPORT_CSS, worstAnswersSection } from "./report.ts";
import { EMBEDDED_FONT_LICENCE, embeddedFontCss } from "./fonts.ts";
import { scoreJournals } from "../scoring/mod.ts";
import {
  exists,
  readRunFile,
  readSummary,
  RUN_FILES,
  type RunFile,
  type ScoredAnswer,
} from "../run/mod.ts";
import { analyzeRun } from "./stage.ts";
import {
  STATISTICS_CSS,
  STATISTICS_SECTIONS,
  statisticsSections,
  type StatsRun,
  statsRunOf,
} from "./statsReport.ts";

/** One run folder read for the comparison. */
export interface LoadedRun {
  dir: string;
  file: RunFile;
  /** Every answer of the run, scored (runs that asked the same prompts pair on their text). */
  answers: readonly ScoredAnswer[];
  bySize: SizeSummary[];
  statistics: RunStatistics;
  /** The worst answers per tuning size (sizes ascending, worst first). */
  worst: ScoredAnswer[];
}

/** Raised for a folder that is not a run, or a run with no answers. */
export class CompareError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CompareError";
  }
}

/**
 * Reads one run folder without changing it: `run.json`, `summary.json` (analysed into a temporary
 * folder when the run has none yet) and, for the pairing, its answers scored from the journals
 * (once: by that analysis when there is one, else here).
 */
export async function loadRun(
  dir: string,
  options: { target?: number } = {},
): Promise<LoadedRun> {
  const file = await readRunFile(dir).catch((e) => {
    throw new CompareError(`${dir}: not a run folder (${(e as Error).message})`);
  });
  let summaryDir = dir;
  let temp: string | undefined;
  const fits = async () => {
    if (!(await exists(join(dir, RUN_FILES.summary)))) return false;
    const made = RunStatisticsSchema.parse((await readSummary(dir)).statistics);
    return options.target === undefined || made.target === options.target;
  };
  let answers: readonly ScoredAnswer[] | undefined;
  if (!(await fits())) {
    temp = summaryDir = await Deno.makeTempDir({ prefix: "compare-" });
    answers = (await analyzeRun(dir, { outDir: temp, target: options.target })).answers;
  }
  try {
    const summary = await readSummary(summaryDir);
    if (!answers) {
      const scoring = await runScoring(file.task, dir);
      const options = { taxonomy: scoring.taxonomy ?? getTaxonomy("un"), score: scoring.score };
      answers = await Array.fromAsync(scoreJournals(dir, options));
    }
    if (answers.length === 0) throw new CompareError(`${dir}: the run has no scored answers yet`);
    return {
      dir,
      file,
      answers,
      bySize: summary.bySize,
      statistics: RunStatisticsSchema.parse(summary.statistics),
      worst: summary.worst,
    };
  } finally {
    if (temp) await Deno.remove(temp, { recursive: true });
  }
}

const CONFIG_PARTS: readonly { key: string; show: (f: RunFile) => string }[] = [
  { key: "order", show: (f) => f.config.order },
  { key: "seed", show: (f) => `seed ${f.config.seed}` },
  { key: "prompts", show: (f) => `${f.config.evalPrompts} prompts` },
  { key: "list", show: (f) => `list ${f.config.taxonomy}` },
  { key: "run", show: (f) => f.runId },
];

/**
 * Names each run by its backend, adding the first settings (order, seed, prompts, list, run id)
 * that tell runs with the same backend apart.
 */
export function runNames(files: readonly RunFile[]): string[] {
  const names = files.map((f) => f.backend.name);
  for (const part of CONFIG_PARTS) {
    const clashing = names.map((n, i) => names.some((m, j) => j !== i && m === n));
    if (!clashing.includes(true)) break;
    const values = files.map(part.show);
    if (new Set(values.filter((_, i) => clashing[i])).size === 1) continue;
    names.forEach((n, i) => {
      if (clashing[i]) names[i] = `${n} · ${values[i]}`;
    });
  }
  return names;
}

/**
 * Every run compared with the first at each model × size both have: paired by prompt text when
 * the two answered the same prompts, unpaired otherwise.
 */
export function compareRuns(runs: readonly LoadedRun[], names: readonly string[]): Comparison[] {
  const out: Comparison[] = [];
  const outcomes = (run: LoadedRun, model: string, size: number) =>
    run.answers.filter(({ record }) => record.model === model && record.size === size).map((
      { record, score },
    ) => ({ promptId: record.prompt.user, repeat: record.repeat, hasError: score.hasError }));
  const first = runs[0];
  const keys = [...new Set(first.bySize.map((r) => `${r.model}\u0000${r.size}`))];
  for (let k = 1; k < runs.length; k++) {
    for (const key of keys) {
      const [model, sizeText] = key.split("\u0000");
      const size = Number(sizeText);
      if (!runs[k].bySize.some((r) => r.model === model && r.size === size)) continue;
      const label = first.bySize.find((r) => r.model === model && r.size === size)!;
      out.push(compareArms(
        "runs",
        {
          arm: { label: `${label.model}@${size}`, model, size, run: names[0] },
          outcomes: outcomes(first, model, size),
        },
        {
          arm: { label: `${label.model}@${size}`, model, size, run: names[k] },
          outcomes: outcomes(runs[k], model, size),
        },
      ));
    }
  }
  return out;
}

function runsTable(runs: readonly LoadedRun[], names: readonly string[]): string {
  return htmlTable(
    [
      "이름 (name)",
      "실행 (run id)",
      "백엔드 (backend)",
      "순서 (order)",
      "시드 (seed)",
      "프롬프트 (prompts)",
      "크기 (sizes)",
      "모델 (models)",
      "생성 (created)",
    ],
    runs.map((r, i) => [
      names[i],
      r.file.runId,
      `${r.file.backend.name}${r.file.backend.url ? ` — ${r.file.backend.url}` : ""}`,
      r.file.config.order,
      r.file.config.seed,
      r.file.config.evalPrompts,
      r.file.config.sizes.join(", "),
      r.file.config.models.join(", "),
      r.file.created,
    ]),
    { className: "summary", caption: "비교한 실행 (runs compared)" },
  );
}

/** The comparison report of the given runs as one self-contained HTML document. */
export async function renderComparison(runs: readonly LoadedRun[]): Promise<string> {
  if (runs.length === 0) throw new CompareError("name at least one run to compare");
  const names = runNames(runs.map((r) => r.file));
  const views: StatsRun[] = runs.map((r, i) =>
    statsRunOf(r.file, r.bySize, r.statistics, names[i])
  );
  // Runs of one task speak of its items and groups; the cookbook's rates stand beside the
  // country task's runs only.
  const taskNames = new Set(runs.map((r) => r.file.task?.name ?? "countries"));
  const terms = taskNames.size === 1 ? termsOf(runs[0].file.task) : COUNTRY_TERMS;
  const cookbook = runs.every((r) => isCountryTask(r.file.task))
    ? (await loadPublishedTables()).filter((r) =>
      runs.some((run) => run.file.config.models.includes(r.model))
    )
    : [];
  const title = `실행 비교 (run comparison) — ${runs.map((r) => r.file.runId).join(", ")}`;
  const nav = STATISTICS_SECTIONS.filter((s) => runs.length > 1 || s.id !== "runs")
    .map((s) =>
      `<a href="#${s.id}">${
        escapeHtml(s.id === "countries" ? `${terms.item}별 오류` : s.label)
      }</a>`
    ).join("");
  const notes = runs.flatMap((r, i) =>
    r.file.backend.note
      ? [`<p class="note">${escapeHtml(`${names[i]}: ${r.file.backend.note}`)}</p>`]
      : []
  );
  const page = `<!doctype html>
<html lang="ko"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}${STATISTICS_CSS}</style></head>
<body>
<header><h1>${escapeHtml(title)}</h1>
<p>${runs.length}개 실행을 같은 차트와 표에 겹쳐 봅니다 (several runs on the same charts and tables) · ${
    escapeHtml(names.join(" | "))
  }</p></header>
<nav><a href="#compared">실행 (runs)</a>${nav}<a href="#worst">나쁜 답변 (worst answers)</a></nav>
<main>
<section id="compared"><h2>비교한 실행 <small>(runs compared)</small></h2>
<p class="note read">각 실행은 백엔드 이름으로, 같은 백엔드끼리는 다른 설정(순서, 시드 …)을 붙여 부릅니다.
<span class="en">Each run is named by its backend, with the setting that tells runs of one backend apart
(order, seed, prompts …); the cookbook's published rates are drawn as one more series.</span></p>
<div class="scroll">${runsTable(runs, names)}</div>${notes.join("")}</section>
${statisticsSections(views, { cookbook, runComparisons: compareRuns(runs, names), terms })}
${
    worstAnswersSection(
      runs.map((r, i) => ({
        name: names[i],
        // the worst answer of each tuning size
        answers: r.worst.filter((a, k) =>
          r.worst.findIndex((b) => b.record.size === a.record.size) === k
        ),
      })),
      terms,
    )
  }
</main>
<footer>이 파일은 네트워크 없이 열립니다 (self-contained: inline CSS and SVG, embedded font).
글꼴 (font): ${escapeHtml(EMBEDDED_FONT_LICENCE)}.</footer>
</body></html>
`;
  // the same font subset the single-run report embeds, cut to this page's characters
  const fonts = await embeddedFontCss(page);
  return page.replace("<style>", () => `<style>${fonts}`);
}

/** Writes the comparison report to `out` (atomically) and returns its path. */
export async function writeComparison(runs: readonly LoadedRun[], out: string): Promise<string> {
  await writeFileAtomic(out, await renderComparison(runs));
  return out;
}
