/**
 * Every CLI's manners (`lib/cli/*.ts` and `deno task bench`), table-driven and spawned as whole processes: a wrong flag or value (unknown
 * flag, missing value, negative / zero / non-numeric / fractional number, unknown choice, missing
 * input file) prints one line `<cli>: …`, a blank line and the usage, exits 2 and makes nothing;
 * a malformed input file is one line `<cli>: …` and exit 1. Never a stack trace.
 */
import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
const dec = new TextDecoder();
/** How many CLIs run at once (the machine is shared). */
const PARALLEL = 4;

const dir = await Deno.makeTempDir({ prefix: "cli_errors_" });
const garbageCsv = join(dir, "garbage.csv");
const garbagePrompts = join(dir, "prompts.csv");
const garbageXlsx = join(dir, "garbage.xlsx");
const garbageJson = join(dir, "garbage.json");
const runDir = join(dir, "run");
await Deno.writeTextFile(garbageCsv, 'Text,Completion\n"never closed,\n');
await Deno.writeTextFile(garbagePrompts, 'system,user\n"never closed,\n');
await Deno.writeFile(garbageXlsx, new Uint8Array(512).map((_, i) => (i * 37) % 251));
await Deno.writeTextFile(garbageJson, "<html>not json</html>");
await Deno.writeTextFile(join(dir, "lf.csv"), 'system,user\r\n,"a"\n,b\r\n');
await Deno.writeTextFile(join(dir, "two.csv"), "system,user\n,first\n,second\n");
await Deno.mkdir(join(runDir, "answers"), { recursive: true });
await Deno.writeTextFile(join(runDir, "answers", "a.jsonl"), "{not a record\n");
await Deno.writeTextFile(join(runDir, "run.json"), "{not json");

/** Evaluate's arguments for an input sheet `input` answered by a server that is never reached. */
const EVALUATE = "--out OUT --openai-url http://127.0.0.1:9/v1 --openai-model m --input";

/**
 * `[command line, first line after "<cli>: "]`: a wrong flag or value; exit 2 with the usage. In
 * the command line, `$DIR` is a scratch folder and `$RUN` a run folder with malformed files.
 */
const USAGE_CASES: [string, RegExp][] = [
  ["compare --bogus", /^unknown flag --bogus$/],
  ["compare --out", /^--out needs a value$/],
  ["compare x --target -1", /^--target takes a percentage like 2%/],
  ["compare x --target 200%", /^--target must be above 0% and below 100%/],
  ["compare", /^name at least one run$/],
  ["compare no-such-run --results $DIR", /^no-such-run: no such run folder/],

  ["crawl --bogus", /^unknown flag --bogus$/],
  ["crawl --url", /^--url needs a value$/],
  ["crawl --expect -5", /^--expect -5: expected a whole number above 0$/],
  ["crawl --expect 0", /^--expect 0: expected a whole number above 0$/],
  ["crawl --expect 1.5", /^--expect 1.5: expected a whole number above 0$/],
  ["crawl --expect many", /^--expect many: expected a whole number above 0$/],
  ["crawl --dry-run=yes", /^--dry-run takes no value$/],
  ["crawl --file nope.json", /^--file nope.json: no such file$/],
  ["crawl --url http://x --file garbage.json", /^give --url or --file, not both$/],
  ["crawl stray", /^unexpected argument "stray"$/],

  ["dataset --bogus", /^unknown flag --bogus$/],
  ["dataset --rows", /^--rows needs a value$/],
  ["dataset --rows -5 --out x.csv", /^--rows -5: expected a whole number above 0$/],
  ["dataset --rows 0 --out x.csv", /^--rows 0: expected a whole number above 0$/],
  ["dataset --rows ten --out x.csv", /^--rows ten: expected a whole number above 0$/],
  ["dataset --rows 1.5 --out x.csv", /^--rows 1.5: expected a whole number above 0$/],
  ["dataset --eval --prompts -1 --out e.xlsx", /^--prompts -1: expected a whole number above 0$/],
  ["dataset --rows 5 --format tsv --out x.csv", /^--format tsv: expected text-completion or/],
  ["dataset --rows 5 --list world --out x.csv", /^--list world: expected un or cookbook$/],
  ["dataset --rows 10 --out /nodir/x.csv", /^--out \/nodir\/x.csv: the folder \/nodir does not/],
  ["dataset --eval --out e.xlsx --exclude nope.csv", /^--exclude nope.csv: no such file$/],
  ["dataset --sizes 0,5 --out-dir $DIR", /^--sizes 0,5: expected "cookbook" or sizes like/],
  [
    "dataset --rows 1000001 --out x.csv",
    /^--rows 1000001: at most 1,000,000 \(rows in one tuning set\)$/,
  ],
  [
    "dataset --eval --prompts 2000000 --out e.xlsx",
    /^--prompts 2000000: at most 1,048,575 \(the rows of one XLSX sheet\)$/,
  ],
  [
    "dataset --sizes 50,1000000000000 --out-dir $DIR",
    /^--sizes 50,1000000000000: a tuning set has at most 1,000,000 rows$/,
  ],

  ["emulator --bogus", /^unknown flag --bogus$/],
  ["emulator --port", /^--port needs a value$/],
  ["emulator --port -1", /^--port -1: expected a whole number from 0 to 65535$/],
  ["emulator --port 1.5", /^--port 1.5: expected a whole number from 0 to 65535$/],
  ["emulator --qpm 0", /^--qpm 0: expected a whole number above 0$/],
  ["emulator --fault-429 2", /^--fault-429 2: expected a number from 0 to 1$/],
  ["emulator --latency-ms soon", /^--latency-ms soon: expected a whole number ≥ 0$/],
  ["emulator --compat 2023", /^--compat 2023: expected cookbook-2024$/],

  ["evaluate --bogus", /^unknown flag --bogus$/],
  ["evaluate --emulater", /^unknown flag --emulater \(did you mean --emulator\?\)$/],
  ["evaluate --input", /^--input needs a value$/],
  ["evaluate --input x.xlsx --out a.xlsx", /^give exactly one of --task, --model or/],
  ["evaluate --model HCX-003 --input x.xlsx --out a.xlsx --concurrency -1", /^--concurrency -1: /],
  ["evaluate --model HCX-003 --input x.xlsx --out a.xlsx --rpm 0", /^--rpm 0: expected a whole/],
  ["evaluate --model HCX-003 --input x.xlsx --out a.xlsx --repeats 2.5", /^--repeats 2.5: /],
  [
    "evaluate --model HCX-003 --input x.xlsx --out a.xlsx --repeats 2000000",
    /^--repeats 2000000: at most 1,048,575 \(the rows of one XLSX result sheet\)$/,
  ],
  [
    "evaluate --model HCX-003 --input x.xlsx --out a.xlsx --concurrency 5000",
    /^--concurrency 5000: at most 1,024 \(requests in flight\)$/,
  ],
  [
    "evaluate --model HCX-003 --input x.xlsx --out a.xlsx --api v2",
    /^--api v2: expected v1 or v3$/,
  ],
  ["evaluate --model HCX-003 --input x.xlsx --out $DIR", /^--out \S+: is a folder/],
  ["evaluate --model HCX-003 --input x.xlsx --out /nodir/a.xlsx", /the folder \/nodir does not/],
  ["evaluate --model HCX-003 --input nope.xlsx --out a.xlsx", /^--input nope.xlsx: no such file$/],

  ["notebooks --bogus", /^unknown flag --bogus$/],
  ["notebooks --only", /^--only needs a value$/],
  ["notebooks --dir nope", /^--dir nope: no such folder$/],
  ["notebooks stray", /^unexpected argument "stray"$/],

  ["pretrain --bogus", /^unknown flag --bogus$/],
  ["pretrain --model", /^--model needs a value$/],
  ["pretrain --model nope", /^--model nope: expected local-1m, local-250k or all$/],
  ["pretrain --steps -5", /^--steps -5: expected a whole number above 0$/],
  ["pretrain --steps 0", /^--steps 0: expected a whole number above 0$/],
  ["pretrain --seed 1.5", /^--seed 1.5: expected a whole number from /],
  [
    "pretrain --mix odd",
    /^--mix odd: expected default, copy-heavy, skills, blocks, find, order or any-order$/,
  ],
  ["pretrain --lr 0", /^--lr 0: expected a number above 0$/],
  ["pretrain --curriculum 2,0.5", /^--curriculum 2,0.5: expected START,SHARE, /],
  ["pretrain --probe-every -1", /^--probe-every -1: expected a whole number ≥ 0$/],
  ["pretrain --model local-250k --init nope.gguf", /^--init nope.gguf: no such file$/],
  ["pretrain --plan odd", /^--plan odd: expected single or staged$/],
  ["pretrain --plan staged --mix copy-heavy", /^--plan staged sets its own mixes/],
  [
    "pretrain --max-steps 10",
    /^--max-steps 10: expected COPY,SKILLS\[,FIND\[,ORDER\]\] step counts, not all 0$/,
  ],
  [
    "pretrain --max-steps 0,0,0",
    /^--max-steps 0,0,0: expected COPY,SKILLS\[,FIND\[,ORDER\]\] step counts, not all 0$/,
  ],
  [
    "pretrain --max-steps 1,2,3,4,5",
    /^--max-steps 1,2,3,4,5: expected COPY,SKILLS\[,FIND\[,ORDER\]\] step counts, not all 0$/,
  ],
  ["pretrain --probe-lists 0", /^--probe-lists 0: expected a whole number from 1 to 1000$/],
  ["pretrain --checkpoint-every 0", /^--checkpoint-every 0: expected a number above 0$/],
  ["pretrain --checkpoint x.ckpt", /^--checkpoint needs one --model$/],
  ["pretrain --export", /^--export needs one --model$/],
  [
    "pretrain --model local-250k --export --resume",
    /^--export writes a checkpoint's weights without training: leave out --resume$/,
  ],
  [
    "pretrain --model local-250k --heads 3",
    /^--heads 3: local-250k's width 64 is not a multiple of it$/,
  ],
  ["pretrain --heads 0", /^--heads 0: expected a whole number from 1 to 64$/],

  ["reproduce --bogus", /^unknown flag --bogus$/],
  ["reproduce --model HCX-003", /^unknown flag --model \(did you mean --models\?\)$/],
  ["reproduce --size 100", /^unknown flag --size \(did you mean --sizes\?\)$/],
  ["reproduce --run", /^--run needs a value$/],
  ["reproduce --concurrency -1", /^--concurrency -1: expected a whole number above 0/],
  ["reproduce --concurrency 0", /^--concurrency 0: expected a whole number above 0/],
  ["reproduce --sizes abc", /^--sizes abc: expected a whole number/],
  ["reproduce --sizes 1.5", /^--sizes 1.5: expected a whole number/],
  ["reproduce --sizes 1000000000000", /^--sizes 1000000000000: a tuning set has at most 1,000,000/],
  ["reproduce --prompts 2000000", /^--prompts 2000000: at most 1,048,575 \(the rows of one XLSX/],
  ["reproduce --repeats 2000000", /^--repeats 2000000: at most 1,048,575/],
  ["reproduce --repeats 1000000", /^--repeats 1000000 with --prompts 100: 100000000 answers per/],
  ["reproduce --concurrency 100000", /^--concurrency 100000: at most 1024 requests in flight$/],
  ["reproduce --models HCX-03", /^--models HCX-03: unknown model "HCX-03"/],
  ["reproduce --backend cloud", /^--backend cloud: expected auto, emulator, local or/],
  ["reproduce --resume --run nope", /^--run nope: no such run/],
  ["reproduce stray", /^unexpected argument "stray"$/],

  ["score --bogus", /^unknown flag --bogus$/],
  ["score --run", /^--run needs a value$/],
  ["score", /^--run is required$/],
  ["score --run $RUN --list world", /^--list world: expected un or cookbook$/],
  ["score --run $RUN --target -5", /^--target takes a percentage like 2%/],
  ["score --run $DIR/nope", /^--run \S+nope: no answers\/ folder there/],

  ["bench --bogus", /^unknown flag --bogus$/],
  ["bench --runs -1", /^--runs -1: expected a whole number above 0$/],
  ["bench --rows 1.5", /^--rows 1.5: expected a whole number above 0$/],
  ["bench --only nap", /^--only nap: no case "nap"/],
];

/** `[command line, last line after "<cli>: "]`: a malformed input file; exit 1, no usage. */
const INPUT_CASES: [string, RegExp][] = [
  ["crawl --file garbage.json --dry-run", /^garbage.json: parse failed: body is not JSON/],
  ["dataset --eval --out e.xlsx --exclude garbage.csv", /^garbage.csv: malformed CSV/],
  [`evaluate ${EVALUATE.replace("OUT", "b.xlsx")} garbage.xlsx`, /^garbage.xlsx: not an XLSX/],
  [`evaluate ${EVALUATE.replace("OUT", "c.xlsx")} prompts.csv`, /^prompts.csv: malformed CSV/],
  [
    `evaluate ${EVALUATE.replace("OUT", "e.xlsx")} lf.csv`,
    /^lf.csv: malformed CSV near line 2: Invalid Closing Quote: got "\\n" at line 2 instead of/,
  ],
  [
    `evaluate ${EVALUATE.replace("OUT", "d.xlsx")} two.csv --repeats 600000`,
    /^--repeats 600000: two.csv has over 1 prompts, and a result sheet holds at most 1,048,575/,
  ],
  ["score --run $RUN", /^\S+a.jsonl: line 1 is not a valid answer record/],
  ["compare $RUN", /^\S+run: not a run folder/],
];

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one command line (see {@link USAGE_CASES}) in the scratch folder. */
async function cli(line: string): Promise<Outcome> {
  const [name, ...args] = line.replaceAll("$RUN", runDir).replaceAll("$DIR", dir).split(" ");
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(ROOT, name === "bench" ? "tests/bench/run.ts" : `lib/cli/${name}.ts`),
      ...args,
    ],
    cwd: dir,
    stdin: "null",
    env: { NO_COLOR: "1", CLOVA_STUDIO_API_KEY: "", TRACE: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  // Deno itself says so on stderr when processes started at once wait for each other's lock on
  // node_modules: that line is the runtime's, not the command's.
  const stderr = dec.decode(out.stderr).replace(/^(Blocking waiting for file lock[^\n]*\n)+/, "");
  return { code: out.code, stdout: dec.decode(out.stdout), stderr };
}

/** Runs `lines` at most {@link PARALLEL} at a time; outcomes in the order of `lines`. */
async function runAll(lines: readonly string[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(lines.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < lines.length) {
        const i = next++;
        outcomes[i] = await cli(lines[i]);
      }
    }),
  );
  return outcomes;
}

const STACK_LINE = /^\s+at /m;

Deno.test("every CLI's wrong flag or value: one line, the usage, exit 2, no trace, nothing made", async () => {
  const outcomes = await runAll(USAGE_CASES.map(([line]) => line));
  const problems: string[] = [];
  USAGE_CASES.forEach(([line, message], i) => {
    const r = outcomes[i];
    const name = line.split(" ")[0];
    const [first, blank, usage] = r.stderr.split("\n");
    if (r.code !== 2) problems.push(`${line}: exit ${r.code}\n${r.stderr}`);
    else if (!first.startsWith(`${name}: `) || !message.test(first.slice(name.length + 2))) {
      problems.push(`${line}: first line ${JSON.stringify(first)}, expected ${name}: ${message}`);
    } else if (blank !== "" || !/^usage:/.test(usage)) {
      problems.push(`${line}: not one line, a blank line and the usage:\n${r.stderr}`);
    } else if (STACK_LINE.test(r.stderr)) problems.push(`${line}: a stack trace\n${r.stderr}`);
    else if (r.stdout !== "") problems.push(`${line}: printed on stdout: ${r.stdout}`);
  });
  assertEquals(problems, []);
  await rejects(Deno.stat(join(dir, "results")), Deno.errors.NotFound, "a run folder was made");
  for (const made of ["x.csv", "e.xlsx", "a.xlsx", "a.jsonl"]) {
    await rejects(Deno.stat(join(dir, made)), Deno.errors.NotFound, made);
  }
});

Deno.test("every CLI's --help: the usage on stdout, exit 0", async () => {
  const names = [...new Set(USAGE_CASES.map(([line]) => line.split(" ")[0]))];
  const outcomes = await runAll(names.map((name) => `${name} --help`));
  names.forEach((name, i) => {
    assertEquals(outcomes[i].code, 0, `${name}: ${outcomes[i].stderr}`);
    assertEquals(/^usage:\s+deno task (\S+)/.exec(outcomes[i].stdout)?.[1], name);
  });
});

Deno.test("a malformed input file: one line naming the file, exit 1, no usage, no trace", async () => {
  const outcomes = await runAll(INPUT_CASES.map(([line]) => line));
  const problems: string[] = [];
  INPUT_CASES.forEach(([line, message], i) => {
    const r = outcomes[i];
    const name = line.split(" ")[0];
    const last = r.stderr.trimEnd().split("\n").at(-1) ?? "";
    if (r.code !== 1) problems.push(`${line}: exit ${r.code}\n${r.stderr}`);
    else if (!last.startsWith(`${name}: `) || !message.test(last.slice(name.length + 2))) {
      problems.push(`${line}: last line ${JSON.stringify(last)}, expected ${name}: ${message}`);
    } else if (r.stderr.includes("usage:")) problems.push(`${line}: printed the usage`);
    else if (STACK_LINE.test(r.stderr)) problems.push(`${line}: a stack trace\n${r.stderr}`);
  });
  assertEquals(problems, []);
});

globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
