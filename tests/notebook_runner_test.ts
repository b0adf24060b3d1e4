/**
 * The notebook runner (`lib/report/notebooks.ts` with `lib/report/notebook_executor.py`) on small fixture
 * notebooks: the outputs the Deno kernel publishes after reporting a cell finished still reach the
 * export, a display that never arrives fails the run, the export carries the embedded Hangul
 * font, and a notebook whose kernel dies while starting is started again.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { fileURLToPath } from "node:url";
import { countOutputs, runNotebooks } from "../lib/report/notebooks.ts";
import { inspectPageInBrowser } from "./helpers/browser.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/notebooks/", import.meta.url));

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "notebook-runner-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("notebook runner: every output arrives, in order, and Hangul is drawn with the embedded font", async () => {
  await inTempDir(async (outDir) => {
    // Plain `nbconvert --execute` lost some of these 44 outputs in most runs; run it twice.
    for (let attempt = 0; attempt < 2; attempt++) {
      const [run] = await runNotebooks({ dir: `${FIXTURES}late`, outDir });
      assert(run.ok, run.error);
      const html = await Deno.readTextFile(run.html!);
      // 40 displays, the log line and the value; then one display and the value.
      assertEquals(run.outputs, 44);
      assertEquals(countOutputs(html), 44);
      const shown = [...html.matchAll(/<p class="late">([^<]*)<\/p>/g)].map((m) => m[1]);
      assertEquals(shown, [...Array.from({ length: 40 }, (_, i) => `표시 ${i}`), "마지막"]);
      assert(html.includes("logged after the displays"), "the log line is in the export");
      assert(html.includes("the cell&#39;s value") || html.includes("the cell's value"));
      // The runner's own marker requests leave nothing in the export, and cells are numbered 1, 2.
      assert(!html.includes("notebook-runner-marker"), "a marker leaked into the export");
      const prompts = [...html.matchAll(/In&nbsp;\[(\d+)\]:/g)].map((m) => m[1]);
      assertEquals(prompts, ["1", "2"]);
      if (attempt === 0) {
        // With no CJK font on the machine, the export's Hangul comes from its embedded font.
        const { problems } = await inspectPageInBrowser(run.html!, [], {
          fontNodes: [".jp-RenderedMarkdown h1", "p.late"],
        });
        assertEquals(problems, []);
      }
    }
  });
});

Deno.test("notebook runner: a display the cell made that never arrives fails the notebook, in one line", async () => {
  await inTempDir(async (outDir) => {
    const [run] = await runNotebooks({ dir: `${FIXTURES}lost`, outDir });
    assertEquals(run.ok, false);
    assertEquals(
      run.error,
      "cell 0: the kernel displayed 2 output(s) but 1 arrived; the export would be incomplete",
    );
  });
});

/**
 * Puts a stand-in `jupyter` first on PATH: it reports nbconvert and the Deno kernel, and its
 * `nbconvert` fails as nbclient does when the kernel dies before it answers, `deaths` times, then
 * writes a one-output export.
 */
async function withDyingKernel<T>(
  deaths: number,
  fn: (outDir: string, calls: () => Promise<number>) => Promise<T>,
): Promise<T> {
  return await inTempDir(async (dir) => {
    const bin = `${dir}/bin`;
    await Deno.mkdir(bin);
    const calls = `${dir}/calls`;
    await Deno.writeTextFile(calls, "");
    await Deno.writeTextFile(
      `${bin}/jupyter`,
      `#!/bin/sh
case "$1 $2" in
  "nbconvert --version") echo 7.16.6; exit 0 ;;
  "kernelspec list") echo '{"kernelspecs": {"deno": {}}}'; exit 0 ;;
esac
echo call >> "${calls}"
if [ "$(wc -l < "${calls}")" -le ${deaths} ]; then
  echo 'RuntimeError: Kernel died before replying to kernel_info' >&2
  exit 1
fi
for last; do :; done
while [ "$1" != "--output-dir" ]; do shift; done
name=$(basename "$last" .ipynb)
echo '<html><head></head><body><div class="jp-OutputArea-child">한</div></body></html>' > "$2/$name.html"
`,
    );
    await Deno.chmod(`${bin}/jupyter`, 0o755);
    const path = Deno.env.get("PATH") ?? "";
    Deno.env.set("PATH", `${bin}:${path}`);
    try {
      const outDir = `${dir}/out`;
      return await fn(
        outDir,
        async () => (await Deno.readTextFile(calls)).split("\n").filter(Boolean).length,
      );
    } finally {
      Deno.env.set("PATH", path);
    }
  });
}

Deno.test("notebook runner: a notebook whose kernel dies while starting is started again, at most twice", async () => {
  await withDyingKernel(1, async (outDir, calls) => {
    const [run] = await runNotebooks({ dir: `${FIXTURES}late`, outDir });
    assert(run.ok, run.error);
    assertEquals(run.kernelRestarts, 1);
    assertEquals(run.outputs, 1);
    assertEquals(await calls(), 2);
  });
  await withDyingKernel(5, async (outDir, calls) => {
    const [run] = await runNotebooks({ dir: `${FIXTURES}late`, outDir });
    assertEquals(run.ok, false);
    assertEquals(run.kernelRestarts, 2);
    assert(run.error?.includes("Kernel died before replying to kernel_info"), run.error);
    assertEquals(await calls(), 3);
  });
});
