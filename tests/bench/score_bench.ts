/**
 * Scoring in one process (for profiling; `deno task bench` times it as a whole process): the
 * 100,000 answers of `answer_corpus.ts` scored with `scoreAnswer`.
 *
 * Run: `deno bench -A tests/bench/score_bench.ts`
 */
import { scoreAnswer } from "../../lib/scoring/score.ts";
import { answerCorpus } from "./answer_corpus.ts";

const answers = answerCorpus(100_000);

Deno.bench({
  name: "scoreAnswer: 100,000 answers",
  n: 5,
  warmup: 1,
  fn: () => {
    for (const a of answers) scoreAnswer(a.countries, a.text);
  },
});
