/**
 * `deno task compare RUN RUN … [--out FILE]`: one self-contained report overlaying several runs
 * (folders under `results/`, or their ids) on the same charts and tables. The runs are read, not
 * changed; no model is called.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { parseTarget } from "../stats/target.ts";

const USAGE = `usage: deno task compare RUN [RUN …] [--out FILE] [--results DIR]

  RUN            a run folder (results/<run-id>) or a run id under --results
  --out FILE     where to write the report (default: <results>/compare-<run ids>.html)
  --results DIR  results folder for run ids (default results)
  --target P     error probability the "rows needed" is estimated for (default 2%)`;

/** The comparison modules (nodejs-polars, Observable Plot), loaded once the flags are read. */
const loadCompare = () => import("../compare.ts");

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** Parses flags, compares the runs and prints where the report is; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        results: { type: "string", default: "results" },
        target: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    console.error(`compare: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    console.error(`compare: name at least one run\n\n${USAGE}`);
    return 2;
  }
  const target = values.target === undefined ? undefined : parseTarget(values.target);
  if (typeof target === "string") {
    console.error(`compare: ${target}\n\n${USAGE}`);
    return 2;
  }
  const dirs: string[] = [];
  for (const p of positionals) {
    const dir = (await isDir(p)) ? p : join(values.results, p);
    if (!(await isDir(dir))) {
      console.error(`compare: ${p}: no such run folder (nor ${dir})\n\n${USAGE}`);
      return 2;
    }
    dirs.push(dir.replace(/\/+$/, ""));
  }
  const { CompareError, loadRun, writeComparison } = await loadCompare();
  try {
    const runs = [];
    for (const dir of dirs) runs.push(await loadRun(dir, { target }));
    const out = values.out ??
      join(values.results, `compare-${runs.map((r) => r.file.runId).join("-")}.html`);
    await Deno.mkdir(join(out, ".."), { recursive: true });
    console.log(`report: ${await writeComparison(runs, out)}`);
    return 0;
  } catch (e) {
    if (e instanceof CompareError) {
      console.error(`compare: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`compare: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
