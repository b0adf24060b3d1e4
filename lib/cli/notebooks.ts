/**
 * `deno task notebooks [--only 01,03] [--out results/notebooks]`: executes every notebook headlessly
 * with the Deno kernel and exports HTML. Exits non-zero if Jupyter/the kernel is missing or any
 * notebook fails.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { JupyterMissingError, runNotebooks } from "../notebooks.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    only: { type: "string" },
    out: { type: "string", default: "results/notebooks" },
    dir: { type: "string", default: "notebooks" },
  },
});

try {
  const runs = await runNotebooks({
    dir: values.dir!,
    outDir: values.out!,
    only: values.only?.split(",").map((s) => s.trim()).filter(Boolean),
    onResult: (r) => {
      console.log(
        `${r.ok ? "ok  " : "FAIL"} ${r.notebook} (${r.seconds.toFixed(1)}s)` +
          (r.html ? ` → ${r.html}` : ""),
      );
      if (r.error) console.log(r.error);
    },
  });
  const failed = runs.filter((r) => !r.ok).length;
  console.log(`notebooks: ${runs.length - failed} passed, ${failed} failed`);
  if (failed > 0 || runs.length === 0) Deno.exit(1);
} catch (e) {
  if (e instanceof JupyterMissingError) {
    console.error(e.message);
    Deno.exit(2);
  }
  throw e;
}
