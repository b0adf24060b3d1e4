/**
 * What commands load: every CLI's `--help`, the CSV path of `dataset`, `crawl` and `emulator` run
 * as whole processes with the heavy libraries (exceljs, nodejs-polars, Observable Plot, linkedom,
 * playwright-core, and the report's subset-font and pngjs) mapped to a module that throws as soon
 * as it is loaded, so they pass only if they never load one. `dataset --eval` (an XLSX) needs
 * exceljs: it is the control that shows the trap springs.
 */
import nodeAssert from "node:assert/strict";
import { join } from "node:path";

const assert: (value: unknown, message?: string) => asserts value = nodeAssert.ok;
const assertEquals = (actual: unknown, expected: unknown, message?: string) =>
  nodeAssert.deepStrictEqual(actual, expected, message);

const ROOT = new URL("..", import.meta.url).pathname;
const HEAVY = [
  "exceljs",
  "nodejs-polars",
  "@observablehq/plot",
  "linkedom",
  "playwright-core",
  "subset-font",
  "pngjs",
];
/** Every CLI in `lib/cli/`; each takes `--help`. */
const CLIS = [
  "compare",
  "crawl",
  "dataset",
  "emulator",
  "evaluate",
  "notebooks",
  "pretrain",
  "reproduce",
  "score",
];

const dir = await Deno.makeTempDir({ prefix: "startup_test_" });
const trap = join(dir, "trap.js");
await Deno.writeTextFile(trap, 'throw new Error("trap: a heavy library was loaded");\n');
const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
const imports: Record<string, string> = { ...config.imports };
for (const name of HEAVY) {
  assert(name in imports, `${name} is in deno.json's imports`);
  imports[name] = `file://${trap}`;
}
const importMap = join(dir, "import_map.json");
await Deno.writeTextFile(importMap, JSON.stringify({ imports }));

function command(cli: string, args: string[], piped = false): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `--import-map=${importMap}`, `lib/cli/${cli}.ts`, ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: piped ? "inherit" : "piped",
    env: { NO_COLOR: "1" },
  });
}

async function run(cli: string, args: string[]) {
  const out = await command(cli, args).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

for (const cli of CLIS) {
  Deno.test(`start-up: ${cli} --help loads no heavy library`, async () => {
    const r = await run(cli, ["--help"]);
    assertEquals(r.code, 0, r.stderr);
    assert(/usage/i.test(r.stdout), r.stdout);
  });
}

Deno.test("start-up: dataset writes a tuning CSV without any heavy library", async () => {
  const out = join(dir, "train.csv");
  const r = await run("dataset", ["--rows", "100", "--seed", "3", "--out", out]);
  assertEquals(r.code, 0, r.stderr);
  assert(r.stdout.includes("validation      0 problems"), r.stdout);
  assert((await Deno.readTextFile(out)).startsWith("\ufeffText,Completion\r\n"));
});

Deno.test("start-up: the trap springs when a command needs exceljs (dataset --eval)", async () => {
  const r = await run("dataset", ["--eval", "--seed", "3", "--out", join(dir, "eval.xlsx")]);
  assert(r.code !== 0, r.stdout);
  assert(r.stderr.includes("trap: a heavy library was loaded"), r.stderr);
});

Deno.test("start-up: crawl builds the taxonomy from a file without any heavy library", async () => {
  const source = join(ROOT, "data/mledoze-countries.json");
  const r = await run("crawl", ["--file", source, "--dry-run"]);
  assertEquals(r.code, 0, r.stderr);
  assert(r.stdout.includes("dry run: nothing written"), r.stdout);
});

Deno.test("start-up: the emulator serves a chat request without any heavy library", async () => {
  const child = command("emulator", ["--port", "0"], true).spawn();
  try {
    let printed = "";
    let url = "";
    let key = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      printed += chunk;
      url = /export CLOVA_STUDIO_HOST=(\S+)\n/.exec(printed)?.[1] ?? "";
      key = /export CLOVA_STUDIO_API_KEY=(\S+)\n/.exec(printed)?.[1] ?? "";
      if (url && key) break;
    }
    assert(url && key, `the emulator printed its URL and key:\n${printed}`);
    const res = await fetch(`${url}/v1/chat-completions/HCX-003`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({
        messages: [{ role: "user", content: "목록에서 나라를 대륙별로 분류해줘.\n\n일본, 독일" }],
      }),
    });
    const body = await res.json();
    assertEquals(res.status, 200, JSON.stringify(body));
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
});

globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
