/**
 * Whole-process measurement of the local backend (run by hand; it takes minutes to hours):
 *
 *   deno run -A tests/bench/local_sweep.ts [reproduce flags…]
 *
 * runs `deno task reproduce --backend local …` under `/usr/bin/time -v` in a fresh results
 * folder and prints, from what the run wrote: the wall time and peak RSS of the whole process,
 * the load average before and after, every tuning task's rows, steps, seconds and tokens per
 * second (prompt and completion tokens processed), the answers per second of every evaluation,
 * and the run's summary table (error probability with its Wilson interval, missing /
 * misclassified / extended counts per model and size).
 *
 * @module
 */
import { join } from "node:path";

function loadavg(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

const results = await Deno.makeTempDir({ prefix: "local-sweep-" });
const before = loadavg();
const started = Date.now();
const out = await new Deno.Command("/usr/bin/time", {
  args: [
    "-v",
    Deno.execPath(),
    "task",
    "reproduce",
    "--backend",
    "local",
    "--results",
    results,
    ...Deno.args,
  ],
  stdout: "piped",
  stderr: "piped",
}).output();
const wall = (Date.now() - started) / 1000;
const stdout = new TextDecoder().decode(out.stdout);
const stderr = new TextDecoder().decode(out.stderr);
const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
console.log(
  `exit ${out.code} · wall ${wall.toFixed(1)} s · peak RSS ${
    rss ? Math.round(Number(rss) / 1024) : "?"
  } MiB`,
);
console.log(
  `load average before ${before} · after ${loadavg()} · threads ${
    Deno.env.get("LOCAL_MODEL_THREADS") ?? navigator.hardwareConcurrency
  }`,
);
const [run] = [...Deno.readDirSync(results)].filter((e) => e.isDirectory).map((e) => e.name);
if (!run) {
  console.log(stderr.slice(-3000));
  Deno.exit(1);
}
const dir = join(results, run);
const tasksDir = join(dir, "emulator-state", "tasks");
console.log(
  "\ntuning tasks: model · rows · steps · seconds · processed tokens/s · final-epoch loss",
);
const recs = [...Deno.readDirSync(tasksDir)].map((e) =>
  JSON.parse(Deno.readTextFileSync(join(tasksDir, e.name)))
).sort((a, b) => a.seq - b.seq);
for (const r of recs) {
  const l = r.local;
  if (!r.outcome.ok) {
    console.log(`  ${r.params.model} · FAILED: ${r.outcome.failureReason} ${r.outcome.message}`);
    continue;
  }
  const loss = r.outcome.stepLoss as number[];
  const per = r.outcome.stepsPerEpoch as number;
  const last = loss.slice(-per);
  console.log(
    `  ${r.params.model} · ${r.outcome.dataRows} · ${loss.length} · ${
      ((l.endMs - l.startedMs) / 1000).toFixed(1)
    } · ${l.tokensPerSecond} · ${(last.reduce((a, b) => a + b, 0) / last.length).toFixed(4)}`,
  );
}
console.log("\nevaluations: label · answers · answers/s (first request to last answer)");
for (const e of Deno.readDirSync(join(dir, "answers"))) {
  if (!e.name.endsWith(".jsonl")) continue;
  const lines = Deno.readTextFileSync(join(dir, "answers", e.name)).split("\n").filter(Boolean)
    .map((l) => JSON.parse(l));
  if (!lines.length) continue;
  const ends = lines.map((l) => Date.parse(l.answeredAt));
  const starts = lines.map((l, i) => ends[i] - l.latencyMs);
  const span = (Math.max(...ends) - Math.min(...starts)) / 1000;
  console.log(
    `  ${e.name.replace(/\.jsonl$/, "")} · ${lines.length} · ${(lines.length / span).toFixed(2)}`,
  );
}
console.log(`\n${stdout.trim()}`);
console.log(`\nrun folder: ${dir}`);
