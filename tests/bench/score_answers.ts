/**
 * Scores a file of answers as one process, for the benchmark suite: each line of FILE is a JSON
 * `{ "countries": [...], "text": "..." }` (see `answer_corpus.ts`). Prints one JSON line: how many
 * answers, how many with an error, and the seconds (wall and CPU) `scoreAnswer` took over all
 * of them.
 *
 *     deno run -A tests/bench/score_answers.ts FILE
 *
 * @module
 */
import process from "node:process";
import { scoreAnswer } from "../../lib/scoring/score.ts";
import type { CorpusAnswer } from "./answer_corpus.ts";

const [file] = Deno.args;
if (!file) {
  console.error("usage: deno run -A tests/bench/score_answers.ts FILE");
  Deno.exit(2);
}
const answers: CorpusAnswer[] = (await Deno.readTextFile(file)).split("\n")
  .filter((line) => line !== "")
  .map((line) => JSON.parse(line));
const start = performance.now();
const cpu = process.cpuUsage();
let errors = 0;
for (const answer of answers) {
  if (scoreAnswer(answer.countries, answer.text).hasError) errors++;
}
const scoringSeconds = (performance.now() - start) / 1000;
const { user, system } = process.cpuUsage(cpu);
const scoringCpuSeconds = (user + system) / 1e6;
console.log(JSON.stringify({ answers: answers.length, errors, scoringSeconds, scoringCpuSeconds }));
