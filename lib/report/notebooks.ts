/**
 * Headless notebook runner: executes every `notebooks/*.ipynb` with the Deno Jupyter kernel through
 * `jupyter nbconvert` and exports each to HTML with the `portable` template
 * (`notebooks/templates/portable/`): JupyterLab's export without the `<script src>` links to
 * require.js and MathJax files of the exporting machine, so the page opens anywhere.
 *
 * Cells are executed by `notebook_executor.py`'s preprocessor, not nbconvert's own: the Deno kernel
 * may publish a cell's last outputs after reporting it finished, so that preprocessor waits for
 * each cell's outputs to drain and fails the notebook when a display the cell made did not arrive.
 * The export then gets the report's embedded Hangul font subset (`lib/report/fonts.ts`).
 *
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../io/mod.ts";

/** Folder of the nbconvert templates; {@link EXPORT_TEMPLATE} is one of them. */
export const TEMPLATE_DIR = fileURLToPath(new URL("../../notebooks/templates/", import.meta.url));
/** The nbconvert template the exports use. */
export const EXPORT_TEMPLATE = "portable";
/** Folder of `notebook_executor.py`, put on the exporting Python's path. */
const EXECUTOR_DIR = fileURLToPath(new URL(".", import.meta.url));
/** The execute preprocessor that drains and checks every cell's outputs. */
const EXECUTOR = "notebook_executor.DrainingExecutePreprocessor";

/** The outcome of one notebook run. */
export interface NotebookRun {
  notebook: string;
  ok: boolean;
  seconds: number;
  html?: string;
  /** Outputs in the export, all cells together (a run that lost one fails instead). */
  outputs?: number;
  /** The tail of nbconvert's output when the run failed. */
  error?: string;
  /** Times the notebook was started again because its kernel died before running a cell. */
  kernelRestarts?: number;
}

/** What nbclient says when the kernel exits before it answers its first request. */
const KERNEL_DIED_AT_START = "Kernel died before replying to kernel_info";
/** How many times a notebook whose kernel died while starting is started again. */
const KERNEL_START_RETRIES = 2;

/** Raised when Jupyter or the Deno kernel is not installed; the message says how to install them. */
export class JupyterMissingError extends Error {
  constructor(what: string) {
    super(
      `${what}\nRun \`deno task setup\`, or install Jupyter (Debian: apt-get install -y ` +
        `jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel; elsewhere: pip ` +
        `install nbconvert nbclient ipykernel) and then the Deno kernel with: deno jupyter --install`,
    );
    this.name = "JupyterMissingError";
  }
}

const quietEnv = { PYDEVD_DISABLE_FILE_VALIDATION: "1", PYTHONWARNINGS: "ignore" };

async function output(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Deno.CommandOutput | undefined> {
  try {
    return await new Deno.Command(cmd, {
      args,
      env: { ...quietEnv, ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Checks that `jupyter nbconvert` and the Deno kernelspec are available; throws {@link JupyterMissingError}. */
export async function checkJupyter(): Promise<void> {
  const nbconvert = await output("jupyter", ["nbconvert", "--version"]);
  if (!nbconvert || !nbconvert.success) {
    throw new JupyterMissingError("`jupyter nbconvert` was not found.");
  }
  const specs = await output("jupyter", ["kernelspec", "list", "--json"]);
  const text = specs ? new TextDecoder().decode(specs.stdout) : "";
  let kernels: Record<string, unknown> = {};
  try {
    kernels = JSON.parse(text).kernelspecs ?? {};
  } catch {
    // fall through: treated as no kernels
  }
  if (!("deno" in kernels)) {
    throw new JupyterMissingError("The Deno Jupyter kernel is not installed.");
  }
}

/** Lists the notebooks of `dir` in name order (`01_…`, `02_…`). */
export async function listNotebooks(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".ipynb")) names.push(entry.name);
  }
  return names.sort();
}

/**
 * Executes each notebook in `dir` (or only those in `only`) with the Deno kernel and writes
 * `<name>.html` to `outDir`. Runs them one after another; reports each as it finishes.
 *
 * The kernel sees `NOTEBOOK_OUT_DIR` (the notebooks write their own files under it: `outDir`) and,
 * when `resultsDir` is given, `RESULTS_DIR` (where notebook 05 looks for runs); nothing else the
 * notebooks write goes elsewhere.
 */
export async function runNotebooks(options: {
  dir: string;
  outDir: string;
  only?: string[];
  resultsDir?: string;
  timeoutSeconds?: number;
  onResult?: (run: NotebookRun) => void;
}): Promise<NotebookRun[]> {
  await checkJupyter();
  await Deno.mkdir(options.outDir, { recursive: true });
  const outDir = resolve(options.outDir);
  const pythonPath = Deno.env.get("PYTHONPATH");
  const env: Record<string, string> = {
    PYTHONPATH: pythonPath ? `${EXECUTOR_DIR}:${pythonPath}` : EXECUTOR_DIR,
    NOTEBOOK_OUT_DIR: outDir,
  };
  if (options.resultsDir !== undefined) env.RESULTS_DIR = resolve(options.resultsDir);
  let names = await listNotebooks(options.dir);
  if (options.only?.length) {
    names = names.filter((n) => options.only!.some((o) => n.startsWith(o) || n === o));
  }
  const runs: NotebookRun[] = [];
  for (const name of names) {
    const started = performance.now();
    const convert = () =>
      output("jupyter", [
        "nbconvert",
        "--to",
        "html",
        `--HTMLExporter.preprocessors=["${EXECUTOR}"]`,
        "--DrainingExecutePreprocessor.kernel_name=deno",
        `--DrainingExecutePreprocessor.timeout=${options.timeoutSeconds ?? 600}`,
        `--TemplateExporter.extra_template_basedirs=${TEMPLATE_DIR}`,
        "--template",
        EXPORT_TEMPLATE,
        "--output-dir",
        outDir,
        `${options.dir}/${name}`,
      ], env);
    let result = await convert();
    // A kernel that dies while starting has run no cell: the notebook is started again.
    let kernelRestarts = 0;
    while (
      result && !result.success && kernelRestarts < KERNEL_START_RETRIES &&
      new TextDecoder().decode(result.stderr).includes(KERNEL_DIED_AT_START)
    ) {
      kernelRestarts++;
      result = await convert();
    }
    const seconds = (performance.now() - started) / 1000;
    const ok = result?.success ?? false;
    const run: NotebookRun = {
      notebook: name,
      ok,
      seconds,
      ...(kernelRestarts ? { kernelRestarts } : {}),
    };
    if (ok) {
      run.html = join(outDir, name.replace(/\.ipynb$/, ".html"));
      const html = await Deno.readTextFile(run.html);
      run.outputs = countOutputs(html);
      await writeFileAtomic(run.html, await embedFonts(html));
    } else {
      const err = result ? new TextDecoder().decode(result.stderr) : "jupyter not found";
      // A lost output is named in one line; any other failure keeps nbconvert's last lines.
      run.error = /^\S*MissingOutputError: (.*)$/m.exec(err)?.[1] ??
        err.split("\n").slice(-40).join("\n");
    }
    options.onResult?.(run);
    runs.push(run);
  }
  return runs;
}

/** The number of cell outputs in a JupyterLab HTML export. */
export function countOutputs(html: string): number {
  return html.match(/class="jp-OutputArea-child\b/g)?.length ?? 0;
}

/**
 * Adds the report's embedded font to a notebook export: `@font-face` rules with Noto Sans KR
 * subset to the page's characters (`lib/report/fonts.ts`), first in the page's font stacks, and after
 * the monospace font in code, so that Hangul renders on a machine with no Korean font.
 */
export async function embedFonts(html: string): Promise<string> {
  const { EMBEDDED_FONT_FAMILY, embeddedFontCss } = await import("./fonts.ts");
  // Characters written as entities (`&#54620;`, `&#xD55C;`) count as well as literal ones.
  const decoded = html.replace(
    /&#(x[0-9a-f]+|\d+);/gi,
    (_, n: string) =>
      String.fromCodePoint(n[0].toLowerCase() === "x" ? parseInt(n.slice(1), 16) : +n),
  );
  const family = `"${EMBEDDED_FONT_FAMILY}"`;
  const css = `${await embeddedFontCss(decoded)}
body, .jp-RenderedHTMLCommon, .jp-OutputArea-output, svg { font-family: ${family}, sans-serif; }
pre, code, .jp-InputArea-editor, .highlight { font-family: monospace, ${family}; }
:root { --jp-content-font-family: ${family}, sans-serif; --jp-ui-font-family: ${family}, sans-serif;
  --jp-code-font-family: monospace, ${family}; }
`;
  const style = `<style type="text/css">\n${css}</style>\n`;
  return html.includes("</head>") ? html.replace("</head>", () => `${style}</head>`) : style + html;
}
