/**
 * Screenshots of a report's charts beside the cookbook's figures, for reading them side by side:
 *
 *     deno run -A tests/helpers/screenshots.ts results/<run-id>/report.html results/screenshots
 *
 * writes `<model>_<chart>.png` for every chart pair of the report (headless Chromium, 1400 px
 * wide, system CJK fonts hidden so the picture shows the embedded font).
 */
import { join } from "node:path";
import { screenshotElement } from "./browser.ts";

const CHARTS = ["size", "country_count", "continent_count"];

/** Saves one PNG per chart pair of the report at `report` into `outDir`; returns their paths. */
export async function screenshotReportCharts(report: string, outDir: string): Promise<string[]> {
  await Deno.mkdir(outDir, { recursive: true });
  const html = await Deno.readTextFile(report);
  const models = [...html.matchAll(/<h3 id="charts-([^"]+)">/g)].map((m) => m[1]);
  const out: string[] = [];
  for (const model of models) {
    for (const [k, chart] of CHARTS.entries()) {
      const path = join(outDir, `${model}_${chart}.png`);
      await screenshotElement(
        report,
        `h3#charts-${model} ~ div.pair >> nth=${k}`,
        path,
      );
      out.push(path);
    }
  }
  return out;
}

if (import.meta.main) {
  const [report, outDir = "results/screenshots"] = Deno.args;
  if (!report) {
    console.error("usage: deno run -A tests/helpers/screenshots.ts REPORT.html [OUT_DIR]");
    Deno.exit(2);
  }
  for (const path of await screenshotReportCharts(report, outDir)) console.log(path);
}
