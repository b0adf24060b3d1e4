/**
 * `deno task compare RUN RUN … [--out FILE]`: one self-contained report overlaying several runs
 * (folders under `results/`, or their ids) on the same charts and tables. The runs are read, not
 * changed; no model is called.
 *
 * @module
 */
import { join } from "node:path";
import { parseTarget } from "../analysis/stats/target.ts";
import { parseCommandLine, printUsage, runCli, UsageError } from "./args.ts";

const USAGE = `usage: deno task compare RUN [RUN …] [--out FILE] [--results DIR] [--target P]

  RUN            a run folder (results/<run-id>) or a run id under --results
  --out FILE     where to write the report (default: <results>/compare-<run ids>.html)
  --results DIR  results folder for run ids (default results)
  --target P     error probability the "rows needed" is estimated for (default 2%)`;

const OPTIONS = {
  out: { type: "string" },
  results: { type: "string" },
  target: { type: "string" },
} as const;

/** The comparison modules (nodejs-polars, Observable Plot), loaded once the flags are read. */
const loadCompare = () => import("../report/compare.ts");

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** Parses flags, compares the runs and prints where the report is; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, { positionals: true });
  if (values.help) return printUsage(USAGE);
  if (positionals.length === 0) throw new UsageError("name at least one run");
  const target = values.target === undefined ? undefined : parseTarget(values.target);
  if (typeof target === "string") throw new UsageError(target);
  const results = values.results ?? "results";
  const dirs: string[] = [];
  for (const p of positionals) {
    const dir = (await isDir(p)) ? p : join(results, p);
    if (!(await isDir(dir))) throw new UsageError(`${p}: no such run folder (nor ${dir})`);
    dirs.push(dir.replace(/\/+$/, ""));
  }
  const { loadRun, writeComparison } = await loadCompare();
  const runs = [];
  for (const dir of dirs) runs.push(await loadRun(dir, { target }));
  const out = values.out ??
    join(results, `compare-${runs.map((r) => r.file.runId).join("-")}.html`);
  await Deno.mkdir(join(out, ".."), { recursive: true });
  console.log(`report: ${await writeComparison(runs, out)}`);
  return 0;
}

if (import.meta.main) await runCli("compare", USAGE, main);
