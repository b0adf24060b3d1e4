/**
 * The shape of `lib/`, read from the code itself: Deno's own module graph (`deno info --json`) of
 * every `lib/**\/*.ts` file, static, dynamic and type-only imports and `export … from` alike.
 *
 * - No import cycle between files.
 * - A folder of `lib/` (a stage such as `lib/scoring/`, or a backend such as
 *   `lib/backends/emulator/`) is entered only through its `mod.ts`: no file outside the folder
 *   imports another of its files.
 * - The notebooks import only entrances (`lib/mod.ts`, a folder's `mod.ts`, or a top-level file).
 */
import nodeAssert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LIB = join(ROOT, "lib");

/** Every `.ts` file under `dir`, as paths relative to `lib/`. */
async function libFiles(dir = LIB): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) out.push(...await libFiles(path));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(relative(LIB, path));
  }
  return out.sort();
}

/** Imports between `lib/` files (relative to `lib/`), from Deno's module graph. */
async function importGraph(): Promise<Map<string, Set<string>>> {
  const files = await libFiles();
  const dir = await Deno.makeTempDir({ prefix: "import_graph_" });
  try {
    const root = join(dir, "all.ts");
    await Deno.writeTextFile(
      root,
      files.map((f) => `import type {} from "${pathToFileURL(join(LIB, f)).href}";\n`).join(""),
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", join(ROOT, "deno.json"), root],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
      }[];
    };
    const libUrl = pathToFileURL(LIB).href + "/";
    const inLib = (url: string | undefined) =>
      url?.startsWith(libUrl) ? decodeURIComponent(url.slice(libUrl.length)) : undefined;
    const graph = new Map<string, Set<string>>(files.map((f) => [f, new Set()]));
    for (const m of info.modules) {
      const from = inLib(m.specifier);
      if (!from || !graph.has(from)) continue;
      for (const d of m.dependencies ?? []) {
        for (const to of [inLib(d.code?.specifier), inLib(d.type?.specifier)]) {
          if (to) graph.get(from)!.add(to);
        }
      }
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The folder a `lib/` file belongs to (`scoring`, `backends/local`), or undefined at the top. */
export function folderOf(file: string): string | undefined {
  const parts = file.split("/");
  if (parts.length < 2) return undefined;
  if (parts[0] === "backends" && parts.length >= 3) return `backends/${parts[1]}`;
  return parts[0];
}

/** Imports of a folder's file other than its `mod.ts` from outside the folder. */
export function internalImports(graph: Map<string, Set<string>>): string[] {
  const bad: string[] = [];
  for (const [from, tos] of graph) {
    for (const to of tos) {
      const folder = folderOf(to);
      if (folder && folderOf(from) !== folder && to !== `${folder}/mod.ts`) {
        bad.push(`lib/${from} imports lib/${to} (enter lib/${folder}/ by its mod.ts)`);
      }
    }
  }
  return bad.sort();
}

/** Every import cycle (strongly connected component of two or more files, or a self-import). */
export function cycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.has(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** The `lib/` files each notebook imports, relative to `lib/`. */
async function notebookImports(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for await (const e of Deno.readDir(join(ROOT, "notebooks"))) {
    if (!e.name.endsWith(".ipynb")) continue;
    const nb = JSON.parse(await Deno.readTextFile(join(ROOT, "notebooks", e.name))) as {
      cells: { cell_type: string; source: string | string[] }[];
    };
    const code = nb.cells.filter((c) => c.cell_type === "code")
      .map((c) => Array.isArray(c.source) ? c.source.join("") : c.source).join("\n");
    const specs = [...code.matchAll(/(?:from|import)\s*\(?\s*["']\.\.\/lib\/([^"']+)["']/g)]
      .map((m) => m[1]);
    out.set(e.name, specs);
  }
  return out;
}

const graph = await importGraph();

Deno.test("import graph: every lib/ file is read, and imports are seen", () => {
  nodeAssert.ok(graph.size > 100, `${graph.size} files`);
  nodeAssert.ok(graph.get("mod.ts")!.size > 5, "lib/mod.ts re-exports the stage entrances");
});

Deno.test("import graph: no import cycle in lib/", () => {
  const found = cycles(graph);
  nodeAssert.deepStrictEqual(found.map((c) => c.map((f) => `lib/${f}`).join(" ↔ ")), []);
});

Deno.test("import graph: a folder of lib/ is entered only through its mod.ts", () => {
  nodeAssert.deepStrictEqual(internalImports(graph), []);
});

Deno.test("import graph: every folder of lib/ has a mod.ts", () => {
  const folders = new Set([...graph.keys()].map(folderOf).filter((f) => f !== undefined));
  folders.delete("cli");
  const missing = [...folders].filter((f) => !graph.has(`${f}/mod.ts`));
  nodeAssert.deepStrictEqual(missing, []);
});

Deno.test("import graph: the notebooks import only entrances", async () => {
  const bad: string[] = [];
  for (const [nb, specs] of await notebookImports()) {
    for (const s of specs) {
      const folder = folderOf(s);
      if (folder && s !== `${folder}/mod.ts`) bad.push(`${nb} imports lib/${s}`);
    }
  }
  nodeAssert.deepStrictEqual(bad, []);
});

Deno.test("import graph: the checks see a cycle and an internal import when there is one", () => {
  const g = new Map([
    ["answers/mod.ts", new Set(["answers/journal.ts"])],
    ["answers/journal.ts", new Set(["scoring/score.ts"])],
    ["scoring/score.ts", new Set(["answers/mod.ts"])],
    ["scoring/mod.ts", new Set(["scoring/score.ts"])],
  ]);
  nodeAssert.deepStrictEqual(cycles(g), [[
    "answers/journal.ts",
    "answers/mod.ts",
    "scoring/score.ts",
  ]]);
  nodeAssert.deepStrictEqual(internalImports(g), [
    "lib/answers/journal.ts imports lib/scoring/score.ts (enter lib/scoring/ by its mod.ts)",
  ]);
});
