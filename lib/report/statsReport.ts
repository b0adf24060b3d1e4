/**
 * The statistics sections of a report, for one run or several overlaid (the run comparison is
 * the several-run case of the same code): learning curves with rows needed, paired model
 * comparisons, consecutive-size steps, evaluation-size planning, where the errors are (worst
 * countries, continent confusion, invented names), tokens and cost next to the error rate, and,
 * with two runs or more, the runs compared at equal sizes.
 *
 * Every table and chart comes with one sentence on how to read it (Korean, then English). All
 * text is escaped; charts are inline SVG from `lib/report/statsCharts.ts`.
 *
 * @module
 */
import {
  type Comparison,
  type ConfusionTable,
  type CountryErrorRow,
  MAX_EXTRAPOLATION,
  type RunStatistics,
  sizeLabel,
  type SizeSummary,
  wilsonInterval,
} from "../analysis/mod.ts";
import { type Cell, escapeHtml, htmlTable } from "../io/mod.ts";
import {
  confusionChart,
  type CurveSeries,
  learningCurveChart,
  worstCountriesChart,
} from "./statsCharts.ts";
import { formatCost } from "../tuning/mod.ts";
import type { RunFile } from "../run/mod.ts";
import { cookbookCounterpart, isLocalModel } from "../backends/mod.ts";
import { COUNTRY_TERMS, type TaskTerms } from "../tasks/mod.ts";

/** One run as the statistics sections show it. */
export interface StatsRun {
  /** Name shown for the run: its backend, with what sets it apart from the others. */
  name: string;
  runId: string;
  /** The run's own per-size summaries (`this run` rows). */
  bySize: readonly SizeSummary[];
  statistics: RunStatistics;
  /**
   * Set when the run's models are the same model by construction (the emulator's reference
   * learner ignores which model is named): why, said where the model comparison would be.
   */
  identicalModels?: string;
}

/** Options of {@link statisticsSections}. */
export interface StatisticsSectionsOptions {
  /** The cookbook's published rows, drawn as one more series of the learning curves. */
  cookbook?: readonly SizeSummary[];
  /** Comparisons between runs at equal sizes (two runs or more). */
  runComparisons?: readonly Comparison[];
  /** The words for items and groups (default the country task's). */
  terms?: TaskTerms;
  /**
   * Whether the per-item error tables are shown (default true; a dataset you bring names no
   * items, so it has none).
   */
  perItem?: boolean;
}

/** Anchors of the sections, for a report's navigation. */
export const STATISTICS_SECTIONS: readonly { id: string; label: string }[] = [
  { id: "curves", label: "학습 곡선" },
  { id: "paired", label: "모델 비교" },
  { id: "steps", label: "크기 단계" },
  { id: "planning", label: "평가 규모" },
  { id: "countries", label: "국가별 오류" },
  { id: "cost", label: "토큰·비용" },
  { id: "runs", label: "실행 비교" },
];

/** Rows of a table at most (one per tuning size): longer lists are split or cut. */
const MAX_ROWS = 14;

/** Styles the sections need beyond the report's own. */
export const STATISTICS_CSS = `
p.read { margin: 4px 0 10px; }
p.read .en { display: block; }
td.yes { color: #1d6b3a; font-weight: bold; }
td.no { color: #8a5a00; }
details.more > summary { cursor: pointer; color: #3f6fd8; margin: 6px 0; }
`;

const pct = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : `${(x * 100).toFixed(digits)}%`;
const signedPct = (x: number) =>
  `${x > 0 ? "+" : x < 0 ? "−" : "±"}${(Math.abs(x) * 100).toFixed(1)}%`;
const interval = (lo: number | null, hi: number | null) =>
  `${signedOrDash(lo)} … ${signedOrDash(hi)}`;
const signedOrDash = (x: number | null) => (x === null || !Number.isFinite(x) ? "–" : signedPct(x));
const int = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x)
    ? "–"
    : Math.round(x).toLocaleString("en-US");
const pValue = (p: number | null) =>
  p === null || !Number.isFinite(p) ? "–" : p < 0.001 ? "< 0.001" : p.toFixed(3);

function read(ko: string, en: string): string {
  return `<p class="note read">${escapeHtml(ko)} <span class="en">${escapeHtml(en)}</span></p>`;
}

function figure(svg: string, caption: string): string {
  return `<figure class="fig">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

function modelsOf(runs: readonly StatsRun[]): string[] {
  const out: string[] = [];
  for (const r of runs) {
    for (const c of r.statistics.curves) if (!out.includes(c.model)) out.push(c.model);
  }
  return out;
}

function runHeading(runs: readonly StatsRun[], run: StatsRun): string {
  return runs.length > 1
    ? `<h3>${escapeHtml(run.name)} <small>(${escapeHtml(run.runId)})</small></h3>`
    : "";
}

// ---------------------------------------------------------------------------------------------
// Learning curves

function curveSection(runs: readonly StatsRun[], opts: StatisticsSectionsOptions): string {
  const target = runs[0]?.statistics.target ?? 0.02;
  const figures = modelsOf(runs).map((model) => {
    const series: CurveSeries[] = runs.map((run) => {
      const curve = run.statistics.curves.find((c) => c.model === model);
      const measured = run.bySize
        .filter((r) => r.model === model && r.size > 0)
        .map((r) => ({
          size: r.size,
          rate: r.errorRate,
          low: r.errorLow,
          high: r.errorHigh,
          errors: r.errors,
          answers: r.answers,
        }));
      const need = curve?.rowsNeeded;
      return {
        name: runs.length > 1 ? `${run.name} · ${model}` : model,
        measured,
        band: curve?.band ?? [],
        rowsNeeded: need && need.estimate !== null
          ? { estimate: need.estimate, low: need.low ?? 0, high: need.high ?? Infinity }
          : undefined,
      };
    });
    const book = (opts.cookbook ?? []).filter((r) => r.model === model && r.size > 0);
    if (book.length) {
      series.push({
        name: `쿡북 (cookbook, published) · ${cookbookCounterpart(model)}`,
        measured: book.map((r) => {
          const [low, high] = wilsonInterval(r.errors, r.answers);
          return {
            size: r.size,
            rate: r.errorRate,
            low,
            high,
            errors: r.errors,
            answers: r.answers,
          };
        }),
        band: [],
      });
    }
    return figure(
      learningCurveChart(series, { subject: model, target }),
      `${model}: 측정값과 로그 크기에 대한 로지스틱 적합 (measured rates and the logistic fit in log size)`,
    );
  });
  const rows: Cell[][] = [];
  for (const run of runs) {
    for (const c of run.statistics.curves) {
      const n = c.rowsNeeded;
      rows.push([
        ...(runs.length > 1 ? [run.name] : []),
        c.model,
        c.fit
          ? `logit p = ${c.fit.intercept.toFixed(2)} ${c.fit.slope < 0 ? "−" : "+"} ${
            Math.abs(c.fit.slope).toFixed(2)
          }·ln(rows)`
          : c.problem ?? "–",
        c.fit ? c.fit.method : "–",
        n
          ? (n.estimate === null
            ? `∞: 도달 안 함 (not reached within the sizes measured, nor ${MAX_EXTRAPOLATION}× beyond)`
            : int(n.estimate))
          : "추정 불가 (not estimable)",
        n ? (n.low === null ? "∞" : `${int(n.low)} – ${n.high === null ? "∞" : int(n.high)}`) : "–",
        n ? `${(n.notReached * 100).toFixed(0)}%` : "–",
        n && n.extrapolated ? "예 (yes: beyond the largest size measured)" : "아니오 (no)",
      ]);
    }
  }
  const table = htmlTable(
    [
      ...(runs.length > 1 ? ["실행 (run)"] : []),
      "모델 (model)",
      "적합 곡선 (fitted curve)",
      "방법 (method)",
      `${pct(target)} 오류에 필요한 행 (rows for ≤ ${pct(target)})`,
      "부트스트랩 95% (bootstrap 95%)",
      "도달 못한 재표본 (replicates never reaching it)",
      "외삽 (extrapolated)",
    ],
    rows,
    { className: "summary", caption: "필요한 튜닝 행 수 (rows needed)" },
  );
  return `<section id="curves"><h2>학습 곡선과 필요한 행 수 <small>(learning curve and rows needed)</small></h2>
${
    read(
      `점은 측정한 오류 확률과 95% Wilson 구간, 선은 로그 크기에 대한 로지스틱 적합과 95% 띠, 점선 위 굵은 막대는 ${
        pct(target)
      } 오류에 필요한 행 수의 부트스트랩 95% 구간입니다.`,
      `Dots are measured error probabilities with 95% Wilson intervals; the line is the logistic fit in log size with its 95% band; the thick bar on the dashed target line is the bootstrap 95% interval (prompts resampled) of the rows needed for ≤ ${
        pct(target)
      } errors.`,
    )
  }
<div class="pair">${figures.join("\n")}</div>
${
    read(
      "표의 ‘필요한 행’은 적합 곡선이 목표 오류율에 닿는 크기이고, 구간이 넓거나 ∞이면 100개 프롬프트로는 그 크기를 정할 수 없다는 뜻입니다.",
      "‘Rows needed’ is where the fitted curve reaches the target; a wide or open-ended (∞) interval means the prompts measured cannot pin that size down.",
    )
  }
<div class="scroll">${table}</div></section>`;
}

// ---------------------------------------------------------------------------------------------
// Paired comparisons

function verdict(c: Comparison): Cell {
  return c.distinguishable ? "구분됨 (differ)" : "구분 불가 (cannot tell apart)";
}

function comparisonRows(list: readonly Comparison[], first: (c: Comparison) => Cell[]): Cell[][] {
  return list.map((c) => [
    ...first(c),
    `${pct(c.firstRate)} → ${pct(c.secondRate)}`,
    signedPct(-c.difference),
    interval(-c.high, -c.low),
    pValue(c.pValue),
    verdict(c),
    c.design === "paired" ? `${c.onlyFirst} / ${c.onlySecond}` : "–",
    int(c.pairedPromptsNeeded),
    int(c.unpairedPromptsNeeded),
  ]);
}

const COMPARISON_HEADERS = [
  "오류 확률 (error probability)",
  "차이 (change)",
  "95% 구간 (paired 95% CI)",
  "McNemar p (exact)",
  "판정 (verdict)",
  "불일치 (only first / only second errs)",
  "필요한 쌍, 검정력 80% (pairs for 80% power)",
  "필요한 프롬프트, 비대응 (per arm, unpaired)",
];

function pairedSection(runs: readonly StatsRun[]): string {
  const blocks = runs.map((run) => {
    const list = run.statistics.models;
    if (list.length === 0) {
      return `${runHeading(runs, run)}<p>비교할 모델이 하나뿐입니다 (one model only).</p>`;
    }
    if (run.identicalModels) {
      return `${runHeading(runs, run)}<p class="note identical-models">${
        escapeHtml(run.identicalModels)
      }</p>`;
    }
    const pairs = [...new Set(list.map((c) => `${c.first.model} vs ${c.second.model}`))];
    return `${runHeading(runs, run)}${
      pairs.map((p) => {
        const rows = list.filter((c) => `${c.first.model} vs ${c.second.model}` === p);
        return `<div class="scroll">${
          htmlTable(
            ["튜닝 개수 (size)", ...COMPARISON_HEADERS],
            comparisonRows(rows, (c) => [sizeLabel(c.first.model, c.first.size)]),
            { className: "summary", caption: `${p} (같은 프롬프트, paired)` },
          )
        }</div>`;
      }).join("\n")
    }`;
  });
  return `<section id="paired"><h2>모델 비교 <small>(paired model comparison)</small></h2>
${
    read(
      "두 모델은 같은 프롬프트에 답했으므로 차이는 대응 비교입니다: ‘차이’는 둘째 모델의 오류 확률에서 첫째를 뺀 값, 구간은 Newcombe 대응 구간, p는 정확 McNemar 검정이며, 구간이 0을 포함하면 이 프롬프트 수로는 두 모델을 구분할 수 없습니다.",
      "Both models answered the same prompts, so the comparison is paired: ‘change’ is the second model's error probability minus the first's, the interval is Newcombe's paired 95% interval, p is the exact McNemar test; an interval containing 0 means these prompts cannot tell the two apart, and the last columns say how many prompts would detect the observed difference with 80% power.",
    )
  }
${blocks.join("\n")}</section>`;
}

function stepsSection(runs: readonly StatsRun[]): string {
  const blocks = runs.map((run) => {
    const models = [...new Set(run.statistics.sizes.map((c) => c.first.model))];
    return `${runHeading(runs, run)}${
      models.map((m) =>
        `<div class="scroll">${
          htmlTable(
            ["크기 (from → to)", ...COMPARISON_HEADERS],
            comparisonRows(
              run.statistics.sizes.filter((c) => c.first.model === m),
              (c) => [`${sizeLabel(m, c.first.size)} → ${sizeLabel(m, c.second.size)}`],
            ),
            { className: "summary", caption: `${m}: 이웃한 크기 사이의 변화 (consecutive sizes)` },
          )
        }</div>`
      ).join("\n")
    }`;
  });
  return `<section id="steps"><h2>이웃한 튜닝 크기 비교 <small>(consecutive sizes of one model)</small></h2>
${
    read(
      "한 모델의 이웃한 두 크기를 같은 프롬프트로 비교합니다: 판정이 ‘구분 불가’인 단계는 데이터를 늘린 효과가 이 평가 규모로는 보이지 않는다는 뜻입니다.",
      "Each row compares two neighbouring tuning sizes of one model on the same prompts; a step marked ‘cannot tell apart’ is one whose effect these prompts cannot show (for example 2% at 2,000 rows against 0% at 10,000).",
    )
  }
${blocks.join("\n")}</section>`;
}

// ---------------------------------------------------------------------------------------------
// Planning

function planningSection(runs: readonly StatsRun[]): string {
  const n = runs[0]?.bySize[0]?.answers ?? 100;
  const [, upper] = wilsonInterval(0, n);
  const notes: string[] = runs.map((r) =>
    r.statistics.promptMix
      ? `${runs.length > 1 ? `${r.name}: ` : ""}${r.statistics.promptMix.note}`
      : ""
  ).filter(Boolean);
  const groups = new Map<string, Cell[][]>();
  let same = 0;
  for (const run of runs) {
    // Models that are one model by construction have no difference to plan for.
    const models = run.identicalModels ? [] : run.statistics.models;
    for (const c of [...models, ...run.statistics.sizes]) {
      if (c.distinguishable) continue;
      if (c.pairedPromptsNeeded === null && c.unpairedPromptsNeeded === null) {
        same++;
        continue;
      }
      const group = `${runs.length > 1 ? `${run.name}: ` : ""}${
        c.kind === "models"
          ? `${c.first.model} vs ${c.second.model}`
          : `${c.first.model}, 이웃한 크기 (consecutive sizes)`
      }`;
      const rows = groups.get(group) ?? [];
      rows.push([
        c.kind === "models"
          ? sizeLabel(c.first.model, c.first.size)
          : `${sizeLabel(c.first.model, c.first.size)} → ${
            sizeLabel(c.first.model, c.second.size)
          }`,
        `${pct(c.firstRate)} vs ${pct(c.secondRate)}`,
        int(c.n),
        int(c.pairedPromptsNeeded),
        int(c.unpairedPromptsNeeded),
      ]);
      groups.set(group, rows);
    }
  }
  if (same > 0) {
    notes.push(
      `${same}개 비교는 같은 오류율을 보여 (예: 0% 대 0%) 계획할 차이가 없습니다 ` +
        `(${same} undecided comparisons measured no difference at all, e.g. 0% vs 0%: there is no ` +
        `difference to plan for).`,
    );
  }
  const tables = [...groups].map(([group, rows]) =>
    `<div class="scroll">${
      htmlTable(
        [
          "비교 (comparison)",
          "측정 (measured)",
          "프롬프트 (prompts now)",
          "필요한 쌍 (pairs, 80% power)",
          "필요한 프롬프트, 비대응 (per arm, unpaired)",
        ],
        rows,
        {
          className: "summary",
          caption:
            `${group}: 차이를 보았지만 구분하지 못한 비교 (differences seen but not decided)`,
          numeric: [2, 3, 4],
        },
      )
    }</div>`
  );
  const table = tables.length
    ? tables.join("\n")
    : "<p>차이를 보고도 구분하지 못한 비교는 없습니다 (no undecided comparison with a difference).</p>";
  return `<section id="planning"><h2>평가 규모 계획 <small>(evaluation-size planning)</small></h2>
${
    read(
      `프롬프트 ${n}개에서 오류 0개의 95% 구간은 0–${
        pct(upper)
      }이므로, 그보다 작은 차이는 이 규모로 말할 수 없습니다; 아래 표는 구분하지 못한 비교마다 관측된 차이를 검정력 80%로 찾는 데 필요한 프롬프트 수입니다.`,
      `With ${n} prompts, 0 errors has a 95% interval of 0–${
        pct(upper)
      }, so smaller differences cannot be claimed at this size; the table gives, for each comparison the run could not decide, the prompts that would detect the observed difference with 80% power (paired: Connor's formula on the observed discordance; unpaired: Fleiss).`,
    )
  }
${notes.map((t) => `<p class="note">${escapeHtml(t)}</p>`).join("\n")}
${table}</section>`;
}

// ---------------------------------------------------------------------------------------------
// Where the errors are

function countriesSection(runs: readonly StatsRun[], t: TaskTerms = COUNTRY_TERMS): string {
  const blocks = runs.map((run) => {
    const s = run.statistics;
    const models = [...new Set(s.confusion.map((t) => t.model))];
    const figs = models.map((m) =>
      `<div class="pair">${
        figure(
          worstCountriesChart(s.countries as CountryErrorRow[], m, { terms: t }),
          `${m}: ${t.item}별 누락·오분류 비율 ` +
            `(share of answers asking ${/^[aeiou]/.test(t.itemEn) ? "an" : "a"} ${t.itemEn} ` +
            "that missed or misplaced it)",
        )
      }${
        figure(
          confusionChart(s.confusion as ConfusionTable[], m, t),
          `${m}: 실제 ${t.group}(행) → 답이 놓은 곳(열) (true ${t.groupEn} → where the answer put it)`,
        )
      }</div>`
    );
    const invented = s.invented.filter((r) => r.size > 0).slice(0, MAX_ROWS);
    const inventedTable = invented.length
      ? htmlTable(
        ["모델", "튜닝 개수", "이름 (name)", "종류 (kind)", "언급 (mentions)", "답 (answers)"],
        invented.map((
          r,
        ) => [r.model, sizeLabel(r.model, r.size), r.name, r.kind, r.mentions, r.answers]),
        {
          className: "summary",
          caption: "지어낸 이름, 튜닝 후 (invented names after tuning)",
          numeric: [4, 5],
        },
      )
      : "<p>튜닝 후 지어낸 이름이 없습니다 (no invented names after tuning).</p>";
    return `${runHeading(runs, run)}${figs.join("\n")}
${
      t.cookbook
        ? read(
          "아래 표는 묻지 않았는데 답에 나온 이름(다른 나라, 비회원국, 알 수 없는 문자열)입니다; 같은 나라의 반복 언급은 포함하지 않습니다.",
          "The table lists names an answer gave that the prompt did not ask (other countries, non-members, unknown text); repeats of asked countries are not counted here.",
        )
        : read(
          `아래 표는 묻지 않았는데 답에 나온 이름(다른 ${t.item}, 알 수 없는 문자열)입니다; 같은 ${t.item}의 반복 언급은 포함하지 않습니다.`,
          `The table lists names an answer gave that the prompt did not ask (other ${t.itemsEn}, unknown text); repeats of asked ${t.itemsEn} are not counted here.`,
        )
    }
<div class="scroll">${inventedTable}</div>`;
  });
  return `<section id="countries"><h2>${t.item}별 오류 <small>(where the errors are)</small></h2>
${
    !t.cookbook
      ? read(
        `왼쪽 열지도는 튜닝 후 오류가 가장 많은 ${t.item}을(를) 크기별로 보여 주며 칸의 숫자는 그것을 물은 답 중 누락·오분류된 답의 수입니다; 오른쪽 혼동표는 실제 ${t.group}(행)의 ${t.item}을(를) 답이 어디에 놓았는지(열) 세며, 대각선 밖의 진한 칸이 고쳐야 할 데이터입니다.`,
        `Left: the ${t.itemsEn} with the most errors after tuning, by size (cell = answers that missed or misplaced it / answers asking it). Right: for each true ${t.groupEn} (row), where answers put its ${t.itemsEn} (column); dark off-diagonal cells show which ${t.groupEn} pairs the tuning data should teach better.`,
      )
      : read(
        "왼쪽 열지도는 튜닝 후 오류가 가장 많은 나라를 크기별로 보여 주며 칸의 숫자는 그 나라를 물은 답 중 누락·오분류된 답의 수입니다; 오른쪽 혼동표는 실제 대륙(행)의 나라를 답이 어디에 놓았는지(열) 세며, 대각선 밖의 진한 칸이 고쳐야 할 데이터입니다.",
        "Left: the countries with the most errors after tuning, by size (cell = answers that missed or misplaced it / answers asking it). Right: for each true continent (row), where answers put its countries (column); dark off-diagonal cells show which continent pairs the tuning data should teach better.",
      )
  }
${blocks.join("\n")}</section>`;
}

// ---------------------------------------------------------------------------------------------
// Tokens and cost

function costSection(runs: readonly StatsRun[]): string {
  const blocks = runs.map((run) => {
    const cost = run.statistics.cost;
    if (!cost) return `${runHeading(runs, run)}<p>비용 정보 없음 (no token or price data).</p>`;
    const rate = new Map(run.bySize.map((r) => [`${r.model}\u0000${r.size}`, r]));
    const models = [...new Set(cost.rows.map((r) => r.model))];
    // A model with no price at all (a local model runs here, at no charge) gets its tokens
    // without three columns of "unknown"; the caption says why.
    const priced = (model: string) => model in cost.sources;
    const rowsOf = (model: string): Cell[][] =>
      cost.rows.filter((r) => r.model === model).map((r) => {
        const s = rate.get(`${r.model}\u0000${r.size}`);
        return [
          sizeLabel(r.model, r.size),
          s ? `${pct(s.errorRate, 0)} (${s.errors}/${s.answers})` : "–",
          int(r.trainedTokens),
          int(r.inputTokens),
          int(r.outputTokens),
          ...(priced(model)
            ? [
              formatCost(r.trainingCost, cost.currency),
              formatCost(r.evaluationCost, cost.currency),
              formatCost(r.totalCost, cost.currency),
            ]
            : []),
        ];
      });
    const tokenizers = [...new Set(cost.training.map((t) => t.tokenizer))];
    const missing = [...new Set(cost.rows.flatMap((r) => r.missing))];
    const sources = Object.entries(cost.sources).map(([m, s]) =>
      `${m}: ${s.source} (${s.checked})`
    );
    const tables = models.map((model) =>
      `<div class="scroll">${
        htmlTable(
          [
            "튜닝 개수",
            "오류 확률 (error)",
            "학습 토큰 (training tokens)",
            "평가 입력 (eval input)",
            "평가 출력 (eval output)",
            ...(priced(model)
              ? ["학습 비용 (training)", "평가 비용 (evaluation)", "합계 (total)"]
              : []),
          ],
          rowsOf(model),
          {
            className: "summary",
            caption: priced(model)
              ? `${model}: 토큰과 예상 비용 (tokens and estimated cost, ${cost.currency} per ${
                cost.perTokens.toLocaleString("en-US")
              } tokens, VAT ${cost.vat})`
              : `${model}: 토큰 (tokens; ${
                isLocalModel(model)
                  ? "가격 없음: 이 컴퓨터에서 돌아가며 요금이 없습니다 (no price: it runs on this machine, at no charge)"
                  : `가격 없음 (no price for ${model} in data/prices.json)`
              })`,
            numeric: priced(model) ? [2, 3, 4, 5, 6, 7] : [2, 3, 4],
          },
        )
      }</div>`
    );
    return `${runHeading(runs, run)}${tables.join("\n")}
<p class="note">${
      escapeHtml(
        `학습 토큰 = 튜닝 세트 토큰 × epoch (${
          tokenizers.join(", ") || "no tokenizer"
        }); 평가 토큰은 답의 usage. ` +
          `가격표 (price table): ${sources.join(" · ")}.` +
          (missing.length ? ` 가격 없음 (unknown prices): ${missing.join("; ")}.` : ""),
      )
    }</p>`;
  });
  return `<section id="cost"><h2>토큰과 비용 <small>(tokens and cost)</small></h2>
${
    read(
      "각 모델·크기의 오류 확률 옆에 학습 토큰(튜닝 세트 토큰 × epoch), 평가 입력·출력 토큰과 가격표로 계산한 예상 비용을 둡니다; 가격이 비어 있으면 ‘unknown’으로 표시하며 data/prices.json을 고치면 됩니다.",
      "Next to each error probability: training tokens (tuning-set tokens × epochs), evaluation input and output tokens from usage, and the cost estimated from the price table; ‘unknown’ means the price is not in data/prices.json (edit it to fill it in).",
    )
  }
${blocks.join("\n")}</section>`;
}

// ---------------------------------------------------------------------------------------------
// Runs compared

function runsSection(runs: readonly StatsRun[], comparisons: readonly Comparison[]): string {
  if (runs.length < 2) return "";
  const models = modelsOf(runs);
  const blocks = models.map((m) => {
    const sizes = [
      ...new Set(runs.flatMap((r) => r.bySize.filter((s) => s.model === m).map((s) => s.size))),
    ]
      .sort((a, b) => a - b);
    const rows: Cell[][] = sizes.map((size) => [
      sizeLabel(m, size),
      ...runs.map((r) => {
        const s = r.bySize.find((x) => x.model === m && x.size === size);
        return s ? `${pct(s.errorRate, 0)} (${pct(s.errorLow, 0)}–${pct(s.errorHigh, 0)})` : "–";
      }),
    ]);
    return `<div class="scroll">${
      htmlTable(["튜닝 개수 (size)", ...runs.map((r) => r.name)], rows, {
        className: "summary",
        caption: `${m}: 실행별 오류 확률과 95% Wilson 구간 (error probability per run)`,
      })
    }</div>`;
  });
  const pairs = [
    ...new Set(comparisons.map((c) => `${c.first.run} vs ${c.second.run}\u0000${c.first.model}`)),
  ];
  const tables = pairs.map((key) => {
    const [p, model] = key.split("\u0000");
    const list = comparisons.filter((c) =>
      `${c.first.run} vs ${c.second.run}` === p && c.first.model === model
    );
    return `<div class="scroll">${
      htmlTable(
        ["튜닝 개수 (size)", "설계 (design)", ...COMPARISON_HEADERS],
        comparisonRows(list, (c) => [sizeLabel(c.first.model, c.first.size), c.design]),
        { className: "summary", caption: `${model} · ${p}: 같은 크기에서 (at equal sizes)` },
      )
    }</div>`;
  });
  const alike = comparisons.length > 0 &&
    comparisons.every((c) => c.design === "paired" && c.onlyFirst + c.onlySecond === 0);
  const alikeNote = alike
    ? `<p class="note">${
      escapeHtml(
        "두 실행은 모든 프롬프트에 똑같이 맞거나 틀렸습니다(불일치 0): 이 백엔드의 답은 두 실행의 차이(예: 순서)에 " +
          "달려 있지 않습니다. (The runs erred on exactly the same prompts — no discordant pair — so " +
          "this backend's answers do not depend on what sets the runs apart; the emulator's reference " +
          "learner, for one, counts (country, continent) pairs and cannot see the order.)",
      )
    }</p>`
    : "";
  return `<section id="runs"><h2>실행 비교 <small>(runs compared at equal sizes)</small></h2>
${
    read(
      "같은 모델·크기를 실행별로 나란히 놓고, 두 실행이 같은 프롬프트에 답했으면 대응 비교(Newcombe 구간, McNemar)를, 아니면 비대응 비교를 합니다; 예를 들어 shuffled와 grouped 실행의 차이가 0을 포함하면 이 규모로는 순서의 효과를 말할 수 없습니다.",
      "The same model and size side by side across runs; when both runs answered the same prompts the comparison is paired (Newcombe interval, McNemar), otherwise unpaired; for a shuffled and a grouped run, an interval containing 0 means these prompts cannot show an effect of the order.",
    )
  }
${alikeNote}
${blocks.join("\n")}
${tables.join("\n")}</section>`;
}

/**
 * The statistics sections for one run or several: learning curves, model comparisons, size
 * steps, planning, countries, cost and (with two runs or more) the runs compared.
 */
export function statisticsSections(
  runs: readonly StatsRun[],
  options: StatisticsSectionsOptions = {},
): string {
  if (runs.length === 0) return "";
  return [
    curveSection(runs, options),
    pairedSection(runs),
    stepsSection(runs),
    planningSection(runs),
    options.perItem === false ? "" : countriesSection(runs, options.terms),
    costSection(runs),
    runsSection(runs, options.runComparisons ?? []),
  ].filter(Boolean).join("\n");
}

/** Styles for {@link statisticsFragment} outside the report (notebooks). */
const FRAGMENT_CSS = `
.stats-fragment { --line: #d9dee7; --muted: #5b6475; }
.stats-fragment .note, .stats-fragment .en { color: var(--muted); }
.stats-fragment .pair { display: grid; gap: 12px; align-items: start;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 640px), 1fr)); }
.stats-fragment figure.fig { margin: 0; border: 1px solid var(--line); padding: 6px; }
.stats-fragment figure.fig svg { display: block; width: 100%; height: auto; }
.stats-fragment figcaption { color: var(--muted); font-size: 12px; }
.stats-fragment table { border-collapse: collapse; font-size: 12px; }
.stats-fragment th, .stats-fragment td { border: 1px solid var(--line); padding: 2px 6px; }
.stats-fragment td.num { text-align: right; }
`;

/**
 * Some of the statistics sections (by id, see {@link STATISTICS_SECTIONS}; default all) as one
 * HTML fragment with its styles, for a notebook cell.
 */
export function statisticsFragment(
  runs: readonly StatsRun[],
  options: StatisticsSectionsOptions = {},
  ids?: readonly string[],
): string {
  const html = statisticsSections(runs, options);
  const sections = html.split(/(?=<section id=")/).filter((part) => {
    const id = /^<section id="([^"]+)">/.exec(part)?.[1];
    return id !== undefined && (!ids || ids.includes(id));
  });
  return `<div class="stats-fragment"><style>${FRAGMENT_CSS}${STATISTICS_CSS}</style>${
    sections.join("\n")
  }</div>`;
}

/** A run as the statistics sections show it, named by its backend. */
export function statsRunOf(
  file: RunFile,
  bySize: readonly SizeSummary[],
  statistics: RunStatistics,
  name = file.backend.name,
): StatsRun {
  const models = file.config.models;
  // Runs made before run.json told the local backend apart recorded it as the emulator.
  const referenceLearner = file.backend.kind === "emulator" && !models.some(isLocalModel);
  return {
    name,
    runId: file.runId,
    bySize: bySize.filter((r) => r.source === "this run"),
    statistics,
    ...(referenceLearner && models.length > 1
      ? {
        identicalModels: `${models.join(", ")}: 에뮬레이터의 reference learner는 모델 이름을 ` +
          `보지 않으므로 이 실행의 모델들은 구조상 같은 모델이고, 같은 튜닝 데이터에서 같은 답을 ` +
          `냅니다. 그래서 모델 비교는 의미가 없습니다 (쿡북에서는 HCX-003이 HCX-DASH-001보다 ` +
          `훨씬 적게 틀립니다). The emulator's reference learner ignores which model is named, ` +
          `so ${models.join(" and ")} are the same model by construction and give the same ` +
          `answers from the same tuning rows: there is no model comparison to make here (in the ` +
          `cookbook, HCX-003 errs far less than HCX-DASH-001). Run on CLOVA Studio, or with ` +
          `--backend local, to compare models.`,
      }
      : {}),
  };
}
