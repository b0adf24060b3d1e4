// The experiment against CLOVA Studio as a customer would run it, with the strict emulator
// standing in for the service (host and keys from the environment): tuning sets in the current
// format uploaded to the user's bucket, the 50-row size skipped (or padded, or refused) before
// anything is paid, a missing bucket refused before any task, nothing of the user's overwritten,
// the cookbook's 2024 API on its own credentials, and never a second task for one label — not
// even when the pipeline is killed between the service storing a task and tasks.json recording it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { AwsClient } from "aws4fetch";
import { ClovaStudioClient } from "../lib/backends/clova/mod.ts";
import {
  type Emulator,
  type EmulatorOptions,
  startEmulator,
} from "../lib/backends/emulator/mod.ts";
import { PipelineError, readRunFile, runPipeline, type TaskEntry } from "../lib/pipeline.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const KEY = `nv-pipeline-${crypto.randomUUID()}`;
const CLIENT = { clientId: "cookbook-client", clientSecret: `secret-${crypto.randomUUID()}` };
const BUCKET = "user-bucket";
const BOM_HEADER = "\uFEFFC_ID,T_ID,Text,Completion\r\n";

/** The environment a customer sets, pointed at `emu`. */
function serviceEnv(emu: Emulator, storage = true): Record<string, string> {
  return {
    CLOVA_STUDIO_API_KEY: KEY,
    CLOVA_STUDIO_HOST: emu.url,
    ...(storage
      ? {
        NCP_OBJECT_STORAGE_ENDPOINT: emu.objectStorageUrl,
        NCP_OBJECT_STORAGE_BUCKET: BUCKET,
        NCP_OBJECT_STORAGE_ACCESS_KEY: "user-access",
        NCP_OBJECT_STORAGE_SECRET_KEY: "user-secret",
      }
      : {}),
  };
}

/** The parent's environment without any CLOVA Studio or Object Storage setting, plus `extra`. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) =>
      !/^(CLOVA_?STUDIO|CLOVASTUDIO|NCP_)/.test(k)
    ),
  );
  return { ...env, NO_COLOR: "1", ...extra };
}

function reproduceCommand(args: string[], env: Record<string, string>): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lib/cli/reproduce.ts", ...args],
    cwd: ROOT,
    env: childEnv(env),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  });
}

async function withService<T>(
  options: Partial<EmulatorOptions>,
  fn: (emu: Emulator, dir: string) => Promise<T>,
): Promise<T> {
  const emu = await startEmulator({
    credentials: { apiKeys: [KEY], clients: [CLIENT] },
    rateLimits: false,
    waitMs: 0,
    trainingSpeed: 50_000,
    quiet: true,
    ...options,
  });
  const dir = await Deno.makeTempDir({ prefix: "clova-pipeline-" });
  try {
    return await fn(emu, dir);
  } finally {
    await emu.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function serviceTasks(emu: Emulator) {
  const c = new ClovaStudioClient({ baseUrl: emu.url, auth: { kind: "api-key", apiKey: KEY } });
  const out = [];
  for await (const t of c.listTasks({ pageSize: 100 })) out.push(t);
  return out;
}

async function readTasks(dir: string): Promise<TaskEntry[]> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dir, "tasks.json")));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

const quiet = { progress: "silent" as const, log: () => {} };
const FAST_POLL = { intervalMs: 20, maxIntervalMs: 50 };

Deno.test("reproduce --backend clova-studio against the strict emulator (started as the service): every task through Object Storage in the current format; 50 rows skipped with a printed reason", async () => {
  const results = await Deno.makeTempDir({ prefix: "strict-service-" });
  // `deno task emulator` as a separate process, strict by default, its exports as the env.
  const emulator = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "lib/cli/emulator.ts", "--port", "0", "--wait-ms", "0"],
    cwd: ROOT,
    env: childEnv({}),
    clearEnv: true,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const env: Record<string, string> = {};
    const lines = emulator.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let printed = "";
    while (!printed.includes("Press Ctrl-C")) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`emulator stopped: ${printed}`);
      printed += value;
    }
    lines.releaseLock();
    assert.match(printed, /strict: the current docs' rules/);
    for (const m of printed.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]] = m[2];
    assert.ok(env.NCP_OBJECT_STORAGE_BUCKET && env.CLOVA_STUDIO_API_KEY);

    const out = await reproduceCommand([
      "--backend",
      "clova-studio",
      "--yes",
      "--sizes",
      "50,100",
      "--models",
      "HCX-003",
      "--prompts",
      "10",
      "--no-base",
      "--results",
      results,
      "--quiet",
    ], env).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr + stdout);
    assert.match(stdout, /note: Tuning size 50 was skipped: this API requires at least 100 rows/);
    const dir = stdout.match(/^report: (.+)\/report\.html$/m)![1];
    const run = await readRunFile(dir);
    assert.deepEqual([run.backend.generation, run.backend.minRows], ["current", 100]);
    const tasks = await readTasks(dir);
    assert.deepEqual(tasks.map((t) => [t.label, t.status]), [["HCX-003@100", "SUCCEEDED"]]);

    const c = new ClovaStudioClient({
      baseUrl: env.CLOVA_STUDIO_HOST,
      auth: { kind: "api-key", apiKey: env.CLOVA_STUDIO_API_KEY },
    });
    const onService = [];
    for await (const t of c.listTasks()) onService.push(t);
    assert.deepEqual(onService.map((t) => t.name), [`${run.runId}-HCX-003-100`]);
    assert.equal(
      onService[0].raw.dataset && (onService[0].raw.dataset as { bucket: string }).bucket,
      env.NCP_OBJECT_STORAGE_BUCKET,
    );
    const s3 = new AwsClient({
      accessKeyId: env.NCP_OBJECT_STORAGE_ACCESS_KEY,
      secretAccessKey: env.NCP_OBJECT_STORAGE_SECRET_KEY,
      service: "s3",
      region: "kr-standard",
    });
    const uploaded = await s3.fetch(
      `${env.NCP_OBJECT_STORAGE_ENDPOINT}/${env.NCP_OBJECT_STORAGE_BUCKET}/clova-tuning/${run.runId}/train_100.csv`,
    );
    assert.equal(uploaded.status, 200);
    const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(await uploaded.arrayBuffer());
    assert.ok(text.startsWith(BOM_HEADER), "UTF-8 with BOM, the current columns");
    assert.equal(text.trim().split("\r\n").length, 101);
    const missing = await s3.fetch(
      `${env.NCP_OBJECT_STORAGE_ENDPOINT}/${env.NCP_OBJECT_STORAGE_BUCKET}/clova-tuning/${run.runId}/train_50.csv`,
    );
    assert.equal(missing.status, 404, "the skipped size was never uploaded");
    await missing.body?.cancel();
    assert.match(await Deno.readTextFile(join(dir, "report.html")), /Tuning size 50 was skipped/);
  } finally {
    emulator.kill("SIGINT");
    await emulator.status;
    await emulator.stdout.cancel().catch(() => {});
    await Deno.remove(results, { recursive: true });
  }
});

Deno.test("never pays twice: killed after the service stored a task and before tasks.json recorded it, the resumed run adopts it — one task per label", async () => {
  let child: Deno.ChildProcess | undefined;
  let killed = 0;
  await withService({
    onTaskStored: async () => {
      if (killed++ > 0 || !child) return;
      child.kill("SIGKILL"); // inside the window: stored on the service, the answer not sent
      await child.status;
    },
  }, async (emu, results) => {
    const sizes = [100, 200];
    child = reproduceCommand([
      "--backend",
      "clova-studio",
      "--yes",
      "--sizes",
      sizes.join(","),
      "--models",
      "HCX-003",
      "--prompts",
      "5",
      "--no-base",
      "--results",
      results,
      "--run",
      "r1",
      "--quiet",
    ], serviceEnv(emu)).spawn();
    const status = await child.status;
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    assert.equal(status.signal, "SIGKILL");
    const dir = join(results, "r1");
    assert.deepEqual(await readTasks(dir), [], "tasks.json never heard of the stored task");
    assert.deepEqual((await serviceTasks(emu)).map((t) => t.name), ["r1-HCX-003-100"]);

    const lines: string[] = [];
    const resumed = await runPipeline({
      config: { models: ["HCX-003"], sizes, evalPrompts: 5, includeBaseModels: false },
      backend: "clova-studio",
      env: serviceEnv(emu),
      resultsDir: results,
      runId: "r1",
      resume: true,
      poll: FAST_POLL,
      confirm: () => true,
      progress: "silent",
      log: (l) => lines.push(l),
    });
    const onService = await serviceTasks(emu);
    assert.equal(emu.stats().tasksCreated, 2, "one create per label, in all");
    assert.deepEqual(onService.map((t) => t.name).sort(), ["r1-HCX-003-100", "r1-HCX-003-200"]);
    assert.deepEqual(
      resumed.tasks.map((t) => t.taskId).sort(),
      onService.map((t) => t.id).sort(),
    );
    assert.ok(resumed.tasks.every((t) => t.status === "SUCCEEDED"));
    assert.ok(
      lines.some((l) => /^tuning: adopted task \w+ \(r1-HCX-003-100/.test(l)),
      lines.join("\n"),
    );
  });
});

Deno.test("never pays twice: killed while the service is still creating a task, the resumed run waits it out and adopts it", async () => {
  // The service takes longer than the client's timeout to create a task; the client's process
  // is killed while the create is in the service's hands, and the run is resumed at once.
  const T = 400;
  let child: Deno.ChildProcess | undefined;
  let received = 0;
  let stored!: () => void;
  const late = new Promise<void>((r) => stored = r);
  await withService({
    onCreateReceived: async () => {
      if (received++ > 0 || !child) return;
      child.kill("SIGKILL");
      await child.status;
      // Stored T × 1.5 after it arrived: after the resumed run first reads the list, before
      // twice the timeout has passed.
      await new Promise((r) => setTimeout(r, 1.5 * T));
    },
    onTaskStored: () => stored(),
  }, async (emu, results) => {
    child = reproduceCommand([
      "--backend",
      "clova-studio",
      "--yes",
      "--sizes",
      "100",
      "--models",
      "HCX-003",
      "--prompts",
      "5",
      "--no-base",
      "--results",
      results,
      "--run",
      "r2",
      "--quiet",
    ], { ...serviceEnv(emu), CLOVA_STUDIO_TIMEOUT_MS: String(T) }).spawn();
    const status = await child.status;
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    assert.equal(status.signal, "SIGKILL");
    const dir = join(results, "r2");
    assert.deepEqual(await readTasks(dir), []);
    assert.deepEqual(await serviceTasks(emu), [], "the create is still being handled");

    const lines: string[] = [];
    const resumed = await runPipeline({
      config: { models: ["HCX-003"], sizes: [100], evalPrompts: 5, includeBaseModels: false },
      backend: "clova-studio",
      env: serviceEnv(emu),
      resultsDir: results,
      runId: "r2",
      resume: true,
      poll: FAST_POLL,
      confirm: () => true,
      progress: "silent",
      log: (l) => lines.push(l),
    });
    await late;
    const onService = await serviceTasks(emu);
    assert.equal(emu.stats().tasksCreated, 1, `one create in all: ${lines.join("\n")}`);
    assert.deepEqual(resumed.tasks.map((t) => t.taskId), onService.map((t) => t.id));
    assert.ok(lines.some((l) => /may still be being created; waiting/.test(l)), lines.join("\n"));
  });
});

Deno.test("current API without bucket settings: a clear error naming the variables, before any task or run folder", async () => {
  await withService({}, async (emu, results) => {
    let asked = false;
    await assert.rejects(
      runPipeline({
        config: { models: ["HCX-003"], sizes: [100], evalPrompts: 5 },
        env: serviceEnv(emu, false),
        resultsDir: results,
        runId: "no-bucket",
        confirm: () => (asked = true),
        ...quiet,
      }),
      (e) =>
        e instanceof PipelineError &&
        /NCP_OBJECT_STORAGE_BUCKET, NCP_OBJECT_STORAGE_ACCESS_KEY, NCP_OBJECT_STORAGE_SECRET_KEY/
          .test(e.message) &&
        /Nothing was created/.test(e.message),
    );
    assert.equal(asked, false);
    assert.equal(emu.stats().tasksCreated ?? 0, 0);
    await assert.rejects(Deno.stat(join(results, "no-bucket")), Deno.errors.NotFound);
  });
});

Deno.test("--min-rows-policy: pad repeats the 50 rows to 100 and says so; fail stops before anything is created", async () => {
  await withService({}, async (emu, results) => {
    const lines: string[] = [];
    const run = await runPipeline({
      config: {
        models: ["HCX-DASH-001"],
        sizes: [50],
        evalPrompts: 5,
        includeBaseModels: false,
        minRowsPolicy: "pad",
      },
      env: serviceEnv(emu),
      resultsDir: results,
      runId: "pad",
      poll: FAST_POLL,
      confirm: () => true,
      progress: "silent",
      log: (l) => lines.push(l),
    });
    assert.deepEqual(run.tasks.map((t) => [t.label, t.status]), [["HCX-DASH-001@50", "SUCCEEDED"]]);
    const [task] = await serviceTasks(emu);
    assert.equal(task.statusInfo.dataRows, 100);
    const padded = await Deno.readTextFile(join(run.dir, "datasets", "train_50_padded.csv"));
    assert.equal(padded.trim().split("\r\n").length, 101);
    assert.ok(lines.some((l) => /padded to 100 rows by repeating its 50 rows/.test(l)));
    assert.match(await Deno.readTextFile(run.analysis.reportPath), /padded to 100 rows/);

    await assert.rejects(
      runPipeline({
        config: { models: ["HCX-003"], sizes: [50, 100], evalPrompts: 5, minRowsPolicy: "fail" },
        env: serviceEnv(emu),
        resultsDir: results,
        runId: "fail",
        confirm: () => true,
        ...quiet,
      }),
      /tuning size 50 is below this API's minimum of 100 rows/,
    );
    assert.equal(emu.stats().tasksCreated, 1, "only the padded task");
  });
});

Deno.test("an object already in the user's bucket with other content is left alone and stops the run; the same bytes are reused", async () => {
  await withService({}, async (emu, results) => {
    const theirs = new TextEncoder().encode("the user's own file\n");
    emu.putObject(BUCKET, "clova-tuning/mine/train_100.csv", theirs);
    const options = {
      config: { models: ["HCX-003"], sizes: [100], evalPrompts: 5, includeBaseModels: false },
      env: serviceEnv(emu),
      resultsDir: results,
      runId: "mine",
      poll: FAST_POLL,
      confirm: () => true,
      ...quiet,
    };
    await assert.rejects(
      runPipeline(options),
      /already exists with other content; it is not overwritten/,
    );
    const s3 = new AwsClient({ accessKeyId: "a", secretAccessKey: "s", service: "s3" });
    const kept = await s3.fetch(
      `${emu.objectStorageUrl}/${BUCKET}/clova-tuning/mine/train_100.csv`,
    );
    assert.deepEqual(new Uint8Array(await kept.arrayBuffer()), theirs);
    assert.equal(emu.stats().tasksCreated ?? 0, 0);
    // Under another run id the upload goes through; resuming it re-uploads nothing.
    const run = await runPipeline({ ...options, runId: "fresh" });
    assert.equal(run.tasks[0].status, "SUCCEEDED");
    const again = await runPipeline({ ...options, runId: "fresh", resume: true });
    assert.deepEqual(again.tasks.map((t) => t.taskId), run.tasks.map((t) => t.taskId));
    assert.equal(emu.stats().tasksCreated, 1);
  });
});

Deno.test("client id/secret credentials: the cookbook's legacy-2024 API — two columns, multipart, its 50 rows tuned", async () => {
  await withService({ compat: "cookbook-2024" }, async (emu, results) => {
    const run = await runPipeline({
      config: { models: ["HCX-003"], sizes: [50], evalPrompts: 5, includeBaseModels: false },
      env: {
        CLOVA_STUDIO_CLIENT_ID: CLIENT.clientId,
        CLOVA_STUDIO_CLIENT_SECRET: CLIENT.clientSecret,
        CLOVA_STUDIO_HOST: emu.url,
      },
      resultsDir: results,
      runId: "legacy",
      poll: FAST_POLL,
      confirm: () => true,
      ...quiet,
    });
    const file = await readRunFile(run.dir);
    assert.deepEqual([file.backend.generation, file.backend.minRows], ["legacy-2024", 0]);
    assert.match(file.backend.name, /legacy-2024 API: \/v2\/tasks, multipart/);
    assert.deepEqual(run.tasks.map((t) => t.status), ["SUCCEEDED"]);
    const csv = await Deno.readTextFile(join(run.dir, "datasets", "train_50.csv"));
    assert.ok(csv.startsWith("\uFEFFText,Completion\r\n"));
    const [task] = await serviceTasks(emu);
    assert.equal(
      (task.raw.dataset as { bucket: string | null }).bucket,
      null,
      "a multipart upload",
    );
    assert.equal(task.method, "LORA");
  });
});
