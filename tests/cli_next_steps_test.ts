/**
 * What the CLIs say when the service cannot be used, and what they exit with: a network failure
 * keeps its reason and host; a run whose first requests all fail on the network stops at once
 * with the `--resume` command; a 401 says to check the credentials and how to run offline; a
 * stale key that picked the paid service without Object Storage settings points to
 * `--backend emulator`; answers that failed for good end `reproduce` with exit 3 and the
 * `--resume` command, as `evaluate` does. The emulator stands in for the service, over HTTP.
 */
import { deepStrictEqual as assertEquals, match as assertMatch, ok as assert } from "node:assert";
import { rejects } from "node:assert/strict";
import { ClovaStudioClient } from "../lib/backends/clova/mod.ts";
import { type Emulator, startEmulator } from "../lib/backends/emulator/mod.ts";
import { evaluateSheet, EvaluationAbortedError } from "../lib/answers/evaluate.ts";
import { OpenAICompatibleProvider } from "../lib/answers/providers.ts";
import { generateEvalSet } from "../lib/datasets/generator.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const KEY = `nv-next-${crypto.randomUUID()}`;
const dec = new TextDecoder();

/** A local port nothing listens on. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
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

async function cli(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `lib/cli/${name}.ts`, ...args],
    cwd: ROOT,
    env: childEnv(env),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function withService<T>(
  faults: { rate500?: number },
  fn: (emu: Emulator, results: string) => Promise<T>,
): Promise<T> {
  const emu = await startEmulator({
    credentials: { apiKeys: [KEY] },
    rateLimits: false,
    waitMs: 0,
    trainingSpeed: 50_000,
    quiet: true,
    faults: { seed: 5, ...faults },
  });
  const results = await Deno.makeTempDir({ prefix: "next-steps-" });
  try {
    return await fn(emu, results);
  } finally {
    await emu.close();
    await Deno.remove(results, { recursive: true });
  }
}

function serviceEnv(emu: Emulator, key = KEY, storage = true): Record<string, string> {
  return {
    CLOVA_STUDIO_API_KEY: key,
    CLOVA_STUDIO_HOST: emu.url,
    ...(storage
      ? {
        NCP_OBJECT_STORAGE_ENDPOINT: emu.objectStorageUrl,
        NCP_OBJECT_STORAGE_BUCKET: "user-bucket",
        NCP_OBJECT_STORAGE_ACCESS_KEY: "user-access",
        NCP_OBJECT_STORAGE_SECRET_KEY: "user-secret",
      }
      : {}),
  };
}

const SMALL_RUN = [
  "--sizes",
  "100",
  "--models",
  "HCX-003",
  "--prompts",
  "20",
  "--no-base",
  "--quiet",
  "--yes",
];

Deno.test("network errors keep their cause: the reason and the host, not just 'fetch failed'", async () => {
  const port = closedPort();
  const refused = new ClovaStudioClient({
    baseUrl: `http://127.0.0.1:${port}`,
    auth: { kind: "api-key", apiKey: KEY },
    retry: { maxAttempts: 1 },
  });
  await rejects(
    refused.chat({ model: "HCX-003" }, { messages: [{ role: "user", content: "안녕" }] }),
    (e: Error) => {
      assertMatch(
        e.message,
        new RegExp(
          `^CLOVA Studio NETWORK: connection refused for 127\\.0\\.0\\.1:${port}: .*Connection refused`,
        ),
      );
      return true;
    },
  );
  const unknownHost = new ClovaStudioClient({
    baseUrl: "http://no-such-host.invalid",
    auth: { kind: "api-key", apiKey: KEY },
    retry: { maxAttempts: 1 },
  });
  await rejects(
    unknownHost.chat({ model: "HCX-003" }, { messages: [{ role: "user", content: "안녕" }] }),
    (e: Error) => {
      assertMatch(
        e.message,
        /^CLOVA Studio NETWORK: DNS lookup failed for no-such-host\.invalid: .*dns error/,
      );
      return true;
    },
  );
});

Deno.test("a run whose first requests all fail on the network stops at once, naming the reason", async () => {
  const port = closedPort();
  const journal = await Deno.makeTempFile({ suffix: ".jsonl" });
  await Deno.remove(journal);
  try {
    const started = performance.now();
    let attempts = 0;
    await rejects(
      evaluateSheet({
        prompts: generateEvalSet({ seed: 3, prompts: 40 }),
        provider: new OpenAICompatibleProvider({
          baseUrl: `http://127.0.0.1:${port}/v1`,
          model: "m",
        }),
        journalPath: journal,
        concurrency: 4,
        maxAttempts: 6,
        backoff: { baseDelayMs: 1, maxDelayMs: 5 },
        progress: false,
        onProgress: (s) => (attempts = s.attempts),
      }),
      (e: Error) => {
        assert(e instanceof EvaluationAbortedError, String(e));
        assertMatch(e.message, /the first 20 requests all failed on the network/);
        assertMatch(e.message, new RegExp(`connection refused for 127\\.0\\.0\\.1:${port}`));
        assertMatch(e.message, /rerun with --resume/);
        return true;
      },
    );
    // Not 40 prompts × 6 attempts: the run stopped after the first 20 (and those in flight).
    assert(attempts <= 24, `${attempts} attempts`);
    assert(performance.now() - started < 10_000);
  } finally {
    await Deno.remove(journal).catch(() => {});
  }
});

Deno.test("evaluate: an unreachable service is one line, then the --resume command (exit 1)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "next-steps-" });
  try {
    const made = await cli("dataset", ["--eval", "--seed", "3", "--out", `${dir}/eval.xlsx`]);
    assertEquals(made.code, 0, made.stderr);
    const port = closedPort();
    const args = [
      "--input",
      `${dir}/eval.xlsx`,
      "--out",
      `${dir}/out.xlsx`,
      "--openai-url",
      `http://127.0.0.1:${port}/v1`,
      "--openai-model",
      "m",
    ];
    const r = await cli("evaluate", args);
    assertEquals(r.code, 1, r.stderr);
    const lines = r.stderr.split("\n").filter((l) => /^(evaluate|resume with):/.test(l));
    assertEquals(lines.length, 2, r.stderr);
    assertMatch(lines[0], /^evaluate: evaluation stopped: NETWORK: the first 20 requests/);
    assertEquals(lines[1], `resume with: deno task evaluate ${args.join(" ")} --resume`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reproduce: refused credentials say what to check and how to run offline", async () => {
  await withService({}, async (emu, results) => {
    const r = await cli("reproduce", [...SMALL_RUN, "--results", results], {
      ...serviceEnv(emu, "nv-stale-key"),
    });
    assertEquals(r.code, 1, r.stderr + r.stdout);
    assertMatch(r.stderr, /HTTP 401/);
    assertMatch(
      r.stderr,
      /^next: the CLOVA Studio credentials were not accepted .*CLOVA_STUDIO_API_KEY.*; to run offline: deno task reproduce --backend emulator$/m,
    );
  });
});

Deno.test("reproduce: a key that picked the paid service without a bucket points to --backend emulator", async () => {
  await withService({}, async (emu, results) => {
    const r = await cli(
      "reproduce",
      [...SMALL_RUN, "--results", results],
      serviceEnv(emu, KEY, false),
    );
    assertEquals(r.code, 1, r.stderr + r.stdout);
    assertMatch(r.stdout, /note: CLOVA Studio was chosen because its credentials are set/);
    assertMatch(
      r.stderr,
      /NCP_OBJECT_STORAGE_BUCKET.*to run offline instead: deno task reproduce --backend emulator$/m,
    );
  });
});

Deno.test("reproduce: answers that failed for good exit 3 with the --resume command, as evaluate does", async () => {
  await withService({ rate500: 0.3 }, async (emu, results) => {
    const r = await cli(
      "reproduce",
      [...SMALL_RUN, "--max-attempts", "1", "--run", "flaky", "--results", results],
      serviceEnv(emu),
    );
    assertEquals(r.code, 3, r.stderr + r.stdout);
    assertMatch(
      r.stderr,
      new RegExp(
        `^\\d+ answer\\(s\\) failed permanently and were not scored; retry only those with: ` +
          `deno task reproduce --resume --run flaky --results ${results}$`,
        "m",
      ),
    );
  });
});
