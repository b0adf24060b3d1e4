/**
 * Batch-runner benchmarks against the local emulator (real HTTP on 127.0.0.1).
 *
 * The headline figures take seconds to minutes per run, so they are measured once, at module
 * load, and printed as a table (Deno.bench would repeat them):
 *  1. 1,000 prompts at concurrency 16 with 200 ms injected latency;
 *  2. the same runner one request at a time (concurrency 1) on the first 100 of those prompts —
 *     1,000 × 200 ms would take ≥ 200 s, so the sequential figure is per request and the
 *     1,000-prompt time is an extrapolation (stated as such);
 *  3. `rpm: 600` for `BENCH_RPM_SECONDS` (default 65 s, longer than the emulator's 60-s sliding
 *     QPM window, so the quota check is real) with the emulator enforcing QPM 600: achieved rate
 *     and number of requests refused for rate.
 * Set `BENCH_EVALUATE_QUICK=1` to skip 2 and 3. The Deno.bench cases below measure the runner's
 * own overhead per request (no injected latency).
 *
 * @module
 */
import { startEmulator } from "../../lib/backends/emulator/mod.ts";
import { ClovaBaseModelProvider } from "../../lib/answers/providers.ts";
import { evaluateSheet } from "../../lib/answers/evaluate.ts";
import { generateEvalSet, type Prompt } from "../../lib/datasets/generator.ts";

const MODEL = "HCX-003";
const apiKey = `nv-bench-${crypto.randomUUID()}`;
const quick = Deno.env.get("BENCH_EVALUATE_QUICK") === "1";
const rpmSeconds = Number(Deno.env.get("BENCH_RPM_SECONDS") ?? 65);

/** 1,000 distinct prompts: the generator's 100-prompt mixes, ten seeds, ids made unique. */
function benchPrompts(n: number): Prompt[] {
  const out: Prompt[] = [];
  for (let seed = 1; out.length < n; seed++) {
    for (const p of generateEvalSet({ seed, prompts: 100 })) {
      out.push({ ...p, id: `s${seed}-${p.id}` });
    }
  }
  return out.slice(0, n);
}

async function run(
  url: string,
  prompts: Prompt[],
  opts: { concurrency: number; rpm?: number },
) {
  const dir = await Deno.makeTempDir();
  try {
    const provider = new ClovaBaseModelProvider({
      client: { baseUrl: url, auth: { kind: "api-key", apiKey } },
      model: MODEL,
    });
    const t0 = performance.now();
    const r = await evaluateSheet({
      prompts,
      provider,
      journalPath: `${dir}/answers.jsonl`,
      concurrency: opts.concurrency,
      rpm: opts.rpm,
      progress: false,
    });
    const seconds = (performance.now() - t0) / 1000;
    if (r.answered + r.failed !== prompts.length) throw new Error("lost answers");
    return { r, seconds };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const all = benchPrompts(1000);
const rows: string[][] = [];

if (!Deno.env.get("BENCH_EVALUATE_SKIP_HEADLINE")) {
  const slow = await startEmulator({
    credentials: { apiKeys: [apiKey] },
    latency: { meanMs: 200, jitterMs: 0 },
    rateLimits: false,
    quiet: true,
  });
  try {
    const par = await run(slow.url, all, { concurrency: 16 });
    rows.push([
      "1000 prompts, concurrency 16, 200 ms latency",
      `${par.seconds.toFixed(2)} s`,
      `${(par.seconds * 1000 / 1000).toFixed(1)} ms/prompt`,
      `${(1000 / par.seconds).toFixed(1)} prompts/s`,
    ]);
    if (!quick) {
      const seq = await run(slow.url, all.slice(0, 100), { concurrency: 1 });
      const perReq = seq.seconds * 1000 / 100;
      rows.push([
        "100 prompts, sequential (concurrency 1), 200 ms latency",
        `${seq.seconds.toFixed(2)} s`,
        `${perReq.toFixed(1)} ms/prompt`,
        `${(100 / seq.seconds).toFixed(2)} prompts/s`,
      ]);
      rows.push([
        "→ 1000 prompts sequential (extrapolated: 10 × the 100-prompt run)",
        `≈ ${(seq.seconds * 10).toFixed(1)} s`,
        `speed-up ≈ ${(seq.seconds * 10 / par.seconds).toFixed(1)}×`,
        "",
      ]);
    }
  } finally {
    await slow.close();
  }
  if (!quick) {
    const limited = await startEmulator({
      credentials: { apiKeys: [apiKey] },
      rateLimits: { [MODEL]: { qpm: 600, tpm: 100_000_000 } },
      quiet: true,
    });
    try {
      const n = Math.round(rpmSeconds * 10);
      const res = await run(limited.url, benchPrompts(n), { concurrency: 16, rpm: 600 });
      const refused = res.r.status.retries + res.r.failed;
      rows.push([
        `rpm 600 for ${n} requests (emulator QPM 600, 60-s sliding window)`,
        `${res.seconds.toFixed(2)} s`,
        `achieved ${res.r.achievedRpm.toFixed(1)} rpm (${
          (100 * res.r.achievedRpm / 600).toFixed(1)
        }% of limit)`,
        `${res.r.status.retries} retries, ${refused} refused`,
      ]);
    } finally {
      await limited.close();
    }
  }
  console.log("\nevaluate bench (measured once at load):");
  for (const r of rows) console.log(`  ${r.join(" | ")}`);
  console.log("");
}

const fastEmu = await startEmulator({
  credentials: { apiKeys: [apiKey] },
  rateLimits: false,
  quiet: true,
});
const hundred = all.slice(0, 100);

Deno.bench({
  name: "evaluate 100 prompts, no latency, concurrency 16 (runner overhead)",
  group: "overhead",
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    await run(fastEmu.url, hundred, { concurrency: 16 });
  },
});

Deno.bench({
  name: "evaluate 100 prompts, no latency, concurrency 1",
  group: "overhead",
  n: 5,
  warmup: 1,
  async fn() {
    await run(fastEmu.url, hundred, { concurrency: 1 });
  },
});

globalThis.addEventListener("unload", () => {
  fastEmu.close();
});
