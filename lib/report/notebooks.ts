/**
 * Headless notebook runner: executes every `notebooks/*.ipynb` with the Deno Jupyter kernel through
 * `jupyter nbconvert --execute` and exports each to HTML with the `portable` template
 * (`notebooks/templates/portable/`): JupyterLab's export without the `<script src>` links to
 * require.js and MathJax files of the exporting machine, so the page opens anywhere.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** Folder of the nbconvert templates; {@link EXPORT_TEMPLATE} is one of them. */
export const TEMPLATE_DIR = fileURLToPath(new URL("../../notebooks/templates/", import.meta.url));
/** The nbconvert template the exports use. */
export const EXPORT_TEMPLATE = "portable";

/** The outcome of one notebook run. */
export interface NotebookRun {
  notebook: string;
  ok: boolean;
  seconds: number;
  html?: string;
  /** The tail of nbconvert's output when the run failed. */
  error?: string;
}

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

async function output(cmd: string, args: string[]): Promise<Deno.CommandOutput | undefined> {
  try {
    return await new Deno.Command(cmd, { args, env: quietEnv, stdout: "piped", stderr: "piped" })
      .output();
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
 */
export async function runNotebooks(options: {
  dir: string;
  outDir: string;
  only?: string[];
  timeoutSeconds?: number;
  onResult?: (run: NotebookRun) => void;
}): Promise<NotebookRun[]> {
  await checkJupyter();
  await Deno.mkdir(options.outDir, { recursive: true });
  let names = await listNotebooks(options.dir);
  if (options.only?.length) {
    names = names.filter((n) => options.only!.some((o) => n.startsWith(o) || n === o));
  }
  const runs: NotebookRun[] = [];
  for (const name of names) {
    const started = performance.now();
    const result = await output("jupyter", [
      "nbconvert",
      "--to",
      "html",
      "--execute",
      "--ExecutePreprocessor.kernel_name=deno",
      `--TemplateExporter.extra_template_basedirs=${TEMPLATE_DIR}`,
      "--template",
      EXPORT_TEMPLATE,
      `--ExecutePreprocessor.timeout=${options.timeoutSeconds ?? 600}`,
      "--output-dir",
      options.outDir,
      `${options.dir}/${name}`,
    ]);
    const seconds = (performance.now() - started) / 1000;
    const ok = result?.success ?? false;
    const run: NotebookRun = { notebook: name, ok, seconds };
    if (ok) {
      run.html = `${options.outDir}/${name.replace(/\.ipynb$/, ".html")}`;
    } else {
      const err = result ? new TextDecoder().decode(result.stderr) : "jupyter not found";
      run.error = err.split("\n").slice(-40).join("\n");
    }
    options.onResult?.(run);
    runs.push(run);
  }
  return runs;
}
