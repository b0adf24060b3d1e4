/**
 * `deno task bench`: times whole processes — what a user waits for — side by side in one run, and
 * prints each case's wall time (minimum and median), peak memory and, where there is a reference,
 * the ratio to it measured pair by pair (the machine's speed drifts; a ratio of runs taken in turn
 * holds better than either time).
 *
 * ```sh
 * deno task bench [--runs 5] [--only dataset,help,score,reproduce,evaluate]
 *                 [--rows 10000] [--answers 100000] [--prompts 100000] [--json results.json]
 * ```
 *
 * Cases:
 * - `dataset`: `deno task dataset --rows N` (and `deno run … lib/cli/dataset.ts`, no task runner)
 *   against the cookbook's Python generator for the same rows (`cookbook_generator.py`), in turn;
 *   then the command's steps timed inside fresh processes (`dataset_phases.ts`).
 * - `help`: every CLI's `--help`.
 * - `score`: scoring N answers (`score_answers.ts` over `answer_corpus.ts`) in one process; the
 *   figure is the scoring time that process reports, beside its whole-process time.
 * - `reproduce`: `deno task reproduce --backend emulator` (offline, the reference learner).
 * - `evaluate`: `deno task evaluate` of N prompts on the emulator, rate limits off, concurrency 64
 *   (one run): answers per second end to end, peak memory, and whether the journal and the XLSX
 *   are complete; the same prompts from a CSV and, in turn, from the XLSX that
 *   `deno task dataset --eval` writes (its reference: the CSV run).
 *
 * Each command runs once first, not counted (it fills Deno's code cache). Times and memory come
 * from `rusage.py` (the operating system's accounting of the finished process).
 *
 * @module
 */
import { join } from "node:path";
import { stringify } from "csv-stringify/sync";
import { intFlag, parseFlags, reportError, UsageError } from "../../lib/cli/args.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const BENCH = join(ROOT, "tests/bench");
const DENO = Deno.execPath();
const CASES = ["dataset", "help", "score", "reproduce", "evaluate"] as const;
type CaseName = typeof CASES[number];
/** The CLIs in `lib/cli/` whose `--help` is timed. */
const HELP_CLIS = ["crawl", "dataset", "emulator", "evaluate", "reproduce", "score"];
const USAGE = `usage: deno task bench [--runs N] [--only ${CASES.join(",")}]
                       [--rows N] [--answers N] [--prompts N] [--json FILE]`;

/** One finished process, as `rusage.py` saw it. */
interface Run {
  code: number;
  wall: number;
  user: number;
  sys: number;
  maxrssKiB: number;
  /** What the process printed (stdout and stderr). */
  output: string;
}

/** One line of the results table. */
interface Row {
  name: string;
  command: string;
  runs: Run[];
  /** The reference's runs, taken in turn with `runs`. */
  reference?: { command: string; runs: Run[] };
  /** A figure other than wall time, e.g. the scoring seconds a process reports. */
  figure?: { label: string; values: number[]; unit: string };
  target?: { text: string; met: boolean };
}

const OPTIONS = {
  runs: { type: "string" },
  only: { type: "string" },
  rows: { type: "string" },
  answers: { type: "string" },
  prompts: { type: "string" },
  json: { type: "string" },
} as const;

/** The checked flags (a {@link UsageError} names the first wrong one). */
function readFlags(args: readonly string[]) {
  const flags = parseFlags(args, OPTIONS);
  const only = new Set((flags.only ?? CASES.join(",")).split(",").map((s) => s.trim()));
  for (const name of only) {
    if (!(CASES as readonly string[]).includes(name)) {
      throw new UsageError(
        `--only ${flags.only}: no case ${JSON.stringify(name)} (cases: ${CASES.join(", ")})`,
      );
    }
  }
  const rows = intFlag("rows", flags.rows ?? "10000")!;
  if (only.has("dataset") && rows % 50 !== 0) {
    throw new UsageError(
      `--rows ${rows}: expected a multiple of 50 (the cookbook's mix, as its generator makes it)`,
    );
  }
  return {
    help: flags.help,
    json: flags.json,
    only,
    rows,
    runs: intFlag("runs", flags.runs ?? "5")!,
    answers: intFlag("answers", flags.answers ?? "100000")!,
    prompts: intFlag("prompts", flags.prompts ?? "100000")!,
  };
}

let flags: ReturnType<typeof readFlags>;
try {
  flags = readFlags(Deno.args);
} catch (e) {
  Deno.exit(reportError("bench", USAGE, e));
}
if (flags.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const { runs, rows, answers, prompts, only } = flags;

const work = await Deno.makeTempDir({ prefix: "bench_" });
let logs = 0;

/** Runs `command` once as a whole process and measures it. */
async function measure(command: string[]): Promise<Run> {
  const log = join(work, `run-${++logs}.log`);
  const out = await new Deno.Command("python3", {
    args: [join(BENCH, "rusage.py"), log, "--", ...command],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).output();
  if (out.code !== 0) throw new Error(`rusage.py failed for ${command.join(" ")}`);
  const run = JSON.parse(new TextDecoder().decode(out.stdout)) as Omit<Run, "output">;
  const output = await Deno.readTextFile(log);
  if (run.code !== 0) {
    throw new Error(`exit ${run.code}: ${command.join(" ")}\n${output.slice(-2000)}`);
  }
  return { ...run, output };
}

/** `n` counted runs of `a` (and of `b` in turn, A B A B …) after one uncounted run of each. */
async function series(n: number, a: string[], b?: string[]): Promise<[Run[], Run[]]> {
  await measure(a);
  if (b) await measure(b);
  const as: Run[] = [];
  const bs: Run[] = [];
  for (let i = 0; i < n; i++) {
    as.push(await measure(a));
    if (b) bs.push(await measure(b));
  }
  return [as, bs];
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const min = (xs: readonly number[]) => Math.min(...xs);
const walls = (rs: readonly Run[]) => rs.map((r) => r.wall);
const cpus = (rs: readonly Run[]) => rs.map((r) => r.user + r.sys);
const peakMiB = (rs: readonly Run[]) => rs.map((r) => r.maxrssKiB / 1024);
const shown = (command: string[]) =>
  command.map((a) => a.startsWith(work) ? a.replace(work, "$TMP") : a)
    .map((a) => a === DENO ? "deno" : a.startsWith(ROOT) ? a.slice(ROOT.length) : a).join(" ");
const progress = (text: string) => console.error(`bench: ${text}`);

const table: Row[] = [];
/** Printed after the table: where a fresh `dataset --rows` process spends its time. */
let datasetPhases = "";

if (only.has("dataset")) {
  const python = ["python3", join(BENCH, "cookbook_generator.py"), join(work, "py.csv"), `${rows}`];
  const args = ["--rows", `${rows}`, "--seed", "1", "--out", join(work, "ours.csv")];
  const forms: [string, string[]][] = [
    ["deno task", [DENO, "task", "dataset", ...args]],
    ["deno run", [DENO, "run", "-A", "lib/cli/dataset.ts", ...args]],
  ];
  for (const [form, command] of forms) {
    progress(`dataset --rows ${rows} (${form}) against the cookbook's Python, ${runs} pairs`);
    const [ours, reference] = await series(runs, command, python);
    const ratios = ours.map((r, i) => reference[i].wall / r.wall);
    table.push({
      name: `dataset, ${rows.toLocaleString("en")} rows (${form})`,
      command: shown(command),
      runs: ours,
      reference: { command: shown(python), runs: reference },
      figure: { label: "times faster than Python (pairs)", values: ratios, unit: "×" },
      target: { text: "≥ 5× faster", met: median(ratios) >= 5 },
    });
  }
  progress(`dataset --rows ${rows}: its steps in ${runs} fresh processes`);
  const phases = await new Deno.Command(DENO, {
    args: ["run", "-A", join(BENCH, "dataset_phases.ts"), `${runs}`, `${rows}`],
    cwd: ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!phases.success) throw new Error("dataset_phases.ts failed");
  datasetPhases = new TextDecoder().decode(phases.stdout);
}

if (only.has("help")) {
  const empty = join(work, "empty.ts");
  await Deno.writeTextFile(empty, "");
  progress(`an empty script (Deno's own start-up), ${runs} runs`);
  const [base] = await series(runs, [DENO, "run", empty]);
  table.push({ name: "deno start-up (an empty script)", command: "deno run empty.ts", runs: base });
  for (const cli of HELP_CLIS) {
    const command = [DENO, "run", "-A", `lib/cli/${cli}.ts`, "--help"];
    progress(`${cli} --help, ${runs} runs`);
    const [ours] = await series(runs, command);
    table.push({
      name: `${cli} --help`,
      command: shown(command),
      runs: ours,
      target: { text: "< 0.25 s", met: median(walls(ours)) < 0.25 },
    });
  }
}

if (only.has("score")) {
  const { answerCorpus } = await import("./answer_corpus.ts");
  const corpus = join(work, "corpus.jsonl");
  progress(`writing ${answers.toLocaleString("en")} answers to score`);
  await Deno.writeTextFile(corpus, answerCorpus(answers).map((a) => JSON.stringify(a)).join("\n"));
  const command = [DENO, "run", "-A", join(BENCH, "score_answers.ts"), corpus];
  progress(`scoring ${answers.toLocaleString("en")} answers, ${runs} runs`);
  const [ours] = await series(runs, command);
  const seconds = ours.map((r) => JSON.parse(r.output.trim().split("\n").at(-1)!).scoringSeconds);
  table.push({
    name: `scoring ${answers.toLocaleString("en")} answers`,
    command: shown(command),
    runs: ours,
    figure: { label: "scoring (in the process)", values: seconds, unit: "s" },
    target: { text: "scoring < 1 s", met: median(seconds) < 1 },
  });
}

if (only.has("reproduce")) {
  const n = Math.min(runs, 3);
  const results = join(work, "runs");
  const command = [
    DENO,
    "task",
    "reproduce",
    "--backend",
    "emulator",
    "--quiet",
    "--results",
    results,
  ];
  progress(`deno task reproduce --backend emulator (offline), ${n} runs`);
  const [ours] = await series(n, command);
  table.push({
    name: "reproduce (offline, emulator)",
    command: shown(command),
    runs: ours,
    target: { text: "< 10 s", met: median(walls(ours)) < 10 },
  });
}

if (only.has("evaluate")) {
  progress(`writing a sheet of ${prompts.toLocaleString("en")} prompts, as CSV and as XLSX`);
  const csv = join(work, "prompts.csv");
  const xlsx = join(work, "prompts.xlsx");
  const { generateEvalSet, writeEvalXlsx } = await import("../../lib/datasets/mod.ts");
  const set = generateEvalSet({ seed: 1, prompts });
  const records = set.map((p) => [
    p.system,
    p.user,
    p.id,
    p.countryCount,
    p.continentCount,
    p.countries.join(", "),
  ]);
  await Deno.writeTextFile(
    csv,
    stringify(records, {
      header: true,
      columns: ["system", "user", "prompt_id", "country_count", "continent_count", "countries"],
    }),
  );
  await writeEvalXlsx(xlsx, set);
  /** One evaluate of `sheet`, measured, with how complete its journal and result sheet are. */
  const evaluate = async (sheet: string, tag: string) => {
    const out = join(work, `answers-${tag}.xlsx`);
    const journal = join(work, `answers-${tag}.jsonl`);
    await Deno.remove(journal).catch(() => {});
    const command = [
      DENO,
      "task",
      "evaluate",
      "--input",
      sheet,
      "--out",
      out,
      "--journal",
      journal,
      "--model",
      "HCX-003",
      "--emulator",
      "--emulator-no-rate-limits",
      "--concurrency",
      "64",
    ];
    const run = await measure(command);
    const { scanJournal } = await import("../../lib/answers/journal.ts");
    const lines = (await scanJournal(journal)).lines;
    const bytes = await Deno.stat(out).then((s) => s.size, () => 0);
    return { command, run, lines, bytes };
  };
  // The same prompts from the CSV and from the XLSX, in turn (one run each).
  progress(`evaluate ${prompts.toLocaleString("en")} prompts on the emulator, CSV then XLSX`);
  const fromCsv = await evaluate(csv, "csv");
  const fromXlsx = await evaluate(xlsx, "xlsx");
  for (const [form, r] of [["", fromCsv], [" from XLSX", fromXlsx]] as const) {
    const rate = prompts / r.run.wall;
    const peak = r.run.maxrssKiB / 1024;
    table.push({
      name: `evaluate ${prompts.toLocaleString("en")} prompts${form} (emulator, concurrency 64)`,
      command: shown(r.command),
      runs: [r.run],
      ...(r === fromXlsx
        ? { reference: { command: shown(fromCsv.command), runs: [fromCsv.run] } }
        : {}),
      figure: { label: "answers/s end to end", values: [rate], unit: "/s" },
      target: {
        text: `≥ 2,000 answers/s, peak < 400 MiB, complete (journal lines ${r.lines}, ` +
          `XLSX ${r.bytes} B)`,
        met: rate >= 2000 && peak < 400 && r.lines >= prompts && r.bytes > 0,
      },
    });
  }
}

const f = (x: number, digits = 3) => x.toFixed(digits);
console.log(
  `\nwhole processes, ${runs} counted runs each after one not counted (evaluate: one), ` +
    `${new Date().toISOString()}, ${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno}`,
);
console.log(
  "\n| case | wall min / median (s) | CPU median (s) | peak RSS median (MiB) " +
    "| reference wall min / median (s) | reference CPU median (s) | reference peak (MiB) " +
    "| figure (min / median / max) | target | met |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const row of table) {
  const ref = row.reference;
  const figure = row.figure
    ? `${row.figure.label}: ${f(min(row.figure.values), 2)} / ${
      f(median(row.figure.values), 2)
    } / ${f(Math.max(...row.figure.values), 2)} ${row.figure.unit}`
    : "";
  console.log(
    `| ${row.name} | ${f(min(walls(row.runs)))} / ${f(median(walls(row.runs)))} | ${
      f(median(cpus(row.runs)))
    } | ${f(median(peakMiB(row.runs)), 1)} | ${
      ref ? `${f(min(walls(ref.runs)))} / ${f(median(walls(ref.runs)))}` : ""
    } | ${ref ? f(median(cpus(ref.runs))) : ""} | ${
      ref ? f(median(peakMiB(ref.runs)), 1) : ""
    } | ${figure} | ${row.target?.text ?? ""} | ${
      row.target ? (row.target.met ? "yes" : "NO") : ""
    } |`,
  );
}
if (datasetPhases) console.log(`\n${datasetPhases.trimEnd()}`);
console.log("\ncommands ($TMP: a temporary folder):");
for (const row of table) {
  console.log(
    `  ${row.name}: ${row.command}${row.reference ? `  vs  ${row.reference.command}` : ""}`,
  );
}
if (flags.json) {
  const strip = (rs: Run[]) => rs.map(({ output: _, ...r }) => r);
  await Deno.writeTextFile(
    flags.json,
    JSON.stringify(
      table.map((r) => ({
        ...r,
        runs: strip(r.runs),
        reference: r.reference && { ...r.reference, runs: strip(r.reference.runs) },
      })),
      null,
      2,
    ),
  );
}
await Deno.remove(work, { recursive: true });
