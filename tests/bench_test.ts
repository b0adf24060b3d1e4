/**
 * The benchmark suite keeps running: `deno task bench` on small sizes, one run per case, must
 * finish and print a row for every case it was asked for. (It asserts no figure: timings belong
 * in the suite's output, not in a test.)
 */
import nodeAssert from "node:assert/strict";

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;

Deno.test("deno task bench: every case runs on small sizes", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "bench",
      "--runs",
      "1",
      "--only",
      "dataset,help,score,evaluate",
      "--rows",
      "100",
      "--answers",
      "300",
      "--prompts",
      "200",
    ],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert(out.code === 0, `${stdout}\n${new TextDecoder().decode(out.stderr)}`);
  for (
    const row of [
      "| dataset, 100 rows (deno task) |",
      "| dataset, 100 rows (deno run) |",
      "| deno start-up (an empty script) |",
      "| crawl --help |",
      "| dataset --help |",
      "| emulator --help |",
      "| evaluate --help |",
      "| reproduce --help |",
      "| score --help |",
      "| scoring 300 answers |",
      "| evaluate 200 prompts (emulator, concurrency 64) |",
      "| evaluate 200 prompts from XLSX (emulator, concurrency 64) |",
    ]
  ) assert(stdout.includes(row), `no row ${row}:\n${stdout}`);
  assert(stdout.split("journal lines 200").length === 3, stdout);
  assert(stdout.includes("dataset --rows 100, 1 fresh processes"), stdout);
});
