/**
 * Step 7, the report: charts, the self-contained HTML report with its fonts and figures, the
 * statistics sections, the comparison of several runs, the headless notebook export, and the
 * stage that scores, summarizes and renders a run folder.
 *
 * @module
 */
export * from "./charts.ts";
export * from "./fonts.ts";
export * from "./png.ts";
export * from "./report.ts";
export * from "./statsCharts.ts";
export * from "./statsReport.ts";
export * from "./compare.ts";
export * from "./notebooks.ts";
export * from "./stage.ts";
