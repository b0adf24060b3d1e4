/**
 * Where a fresh `dataset --rows` process spends its time: the steps of the command's CSV path
 * (`lib/cli/dataset.ts`), timed in one new process each run, and printed as the median and the
 * minimum of every step over the runs.
 *
 *     deno run -A tests/bench/dataset_phases.ts [RUNS] [ROWS]
 *
 * Steps: start-up (process start to this module's first line, Deno's own), imports (the
 * command's modules: node:util and node:path, pure-rand, the country list), the taxonomy,
 * drawing the rows, the rule check, the statistics, and the CSV made chunk by chunk and
 * written atomically (each chunk written while the next is made; temp file, fsync, rename),
 * one after another (the command itself checks and counts the rows while the file is synced).
 * The whole-process time, what a user waits for, is `deno task bench`'s.
 *
 * @module
 */
import { join } from "node:path";

const [runs = "9", rows = "10000"] = Deno.args;

if (Deno.env.get("DATASET_PHASES_CHILD") === "1") {
  const at = [performance.now()];
  await import("../../lib/cli/args.ts");
  const { getTaxonomy } = await import("../../lib/countries/taxonomy.ts");
  const sampling = await import("../../lib/sampling/mod.ts");
  const { writeFileAtomic } = await import("../../lib/io/atomicFile.ts");
  at.push(performance.now());
  const taxonomy = getTaxonomy("un");
  at.push(performance.now());
  const set = sampling.drawTrainingSet({ rows: Number(rows), seed: 1, taxonomy });
  at.push(performance.now());
  sampling.drawnProblems(set);
  at.push(performance.now());
  sampling.drawnStats(set);
  at.push(performance.now());
  const out = join(Deno.env.get("DATASET_PHASES_DIR")!, "train.csv");
  await writeFileAtomic(out, sampling.drawnTuningCsvChunks(set));
  at.push(performance.now());
  console.log(JSON.stringify(at));
  Deno.exit(0);
}

const STEPS = [
  "start-up",
  "imports",
  "taxonomy",
  "draw",
  "rule check",
  "stats",
  "CSV written",
];
const dir = await Deno.makeTempDir({ prefix: "dataset_phases_" });
const times: number[][] = STEPS.map(() => []);
const totals: number[] = [];
for (let i = 0; i < Number(runs) + 1; i++) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, runs, rows],
    env: { DATASET_PHASES_CHILD: "1", DATASET_PHASES_DIR: dir },
    stdout: "piped",
  }).output();
  if (!out.success) throw new Error("the timed process failed");
  const at: number[] = JSON.parse(new TextDecoder().decode(out.stdout));
  if (i === 0) continue; // fills Deno's code cache
  times[0].push(at[0]);
  for (let s = 1; s < at.length; s++) times[s].push(at[s] - at[s - 1]);
  totals.push(at[at.length - 1]);
}
await Deno.remove(dir, { recursive: true });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`dataset --rows ${rows}, ${runs} fresh processes: median / min (ms)`);
STEPS.forEach((step, s) => {
  console.log(
    `  ${step.padEnd(11)} ${median(times[s]).toFixed(1).padStart(6)} / ${
      Math.min(...times[s]).toFixed(1)
    }`,
  );
});
console.log(
  `  ${"in all".padEnd(11)} ${median(totals).toFixed(1).padStart(6)} / ${
    Math.min(...totals).toFixed(1)
  }  (from the process's time origin; exit not included)`,
);
