/**
 * `deno task notebooks [--only 01,03] [--out results/notebooks]`: executes every notebook headlessly
 * with the Deno kernel and exports HTML (with the embedded Hangul font), printing each notebook's
 * count of outputs. Exits non-zero if Jupyter/the kernel is missing or any notebook fails,
 * including one whose cell made a display that never arrived.
 *
 * @module
 */
import { checkInput, parseFlags, printUsage, runCli } from "./args.ts";

const USAGE = `usage: deno task notebooks [--only 01,03] [--out results/notebooks] [--dir notebooks]

  --only A,B   run only the notebooks whose names start with these (default: all)
  --out DIR    where the HTML exports go (default results/notebooks)
  --dir DIR    the notebooks' folder (default notebooks)`;

const OPTIONS = {
  only: { type: "string" },
  out: { type: "string" },
  dir: { type: "string" },
} as const;

/** Parses flags and runs the notebooks; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const values = parseFlags(args, OPTIONS);
  if (values.help) return printUsage(USAGE);
  const dir = values.dir ?? "notebooks";
  await checkInput("dir", dir, "folder");
  const { JupyterMissingError, runNotebooks } = await import("../report/notebooks.ts");
  try {
    const runs = await runNotebooks({
      dir,
      outDir: values.out ?? "results/notebooks",
      only: values.only?.split(",").map((s) => s.trim()).filter(Boolean),
      onResult: (r) => {
        console.log(
          `${r.ok ? "ok  " : "FAIL"} ${r.notebook} (${r.seconds.toFixed(1)}s` +
            (r.outputs !== undefined ? `, ${r.outputs} outputs` : "") + ")" +
            (r.html ? ` → ${r.html}` : ""),
        );
        if (r.error) console.log(r.error);
      },
    });
    const failed = runs.filter((r) => !r.ok).length;
    console.log(`notebooks: ${runs.length - failed} passed, ${failed} failed`);
    return failed > 0 || runs.length === 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof JupyterMissingError) {
      console.error(`notebooks: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) await runCli("notebooks", USAGE, main);
