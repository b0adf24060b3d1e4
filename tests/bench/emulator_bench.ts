/**
 * Emulator throughput on loopback, measured with plain `fetch` (keep-alive):
 * `deno bench -A tests/bench/emulator_bench.ts`.
 *
 * - "sequential": one chat request per iteration → iter/s = requests/s.
 * - "concurrent ×32": 32 requests in flight per iteration → requests/s = 32 × iter/s.
 * Rate limits and faults are off; the answer is the reference learner's (tuned task or base).
 */
import {
  COMPLETION_PREFIX,
  CONTINENTS,
  COOKBOOK_COUNTRIES,
  TEXT_PREFIX,
} from "../../lib/cookbook.ts";
import { startEmulator } from "../../lib/backends/emulator/mod.ts";

const KEY = `nv-bench-${crypto.randomUUID()}`;
const emu = await startEmulator({ credentials: { apiKeys: [KEY] }, rateLimits: false });
const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };

// A tuned task from 1,000 cookbook-style rows.
const rows = Array.from({ length: 1000 }, (_, i) => {
  const picked = CONTINENTS.map((
    c,
  ) => [c, COOKBOOK_COUNTRIES[c][(i * 7) % COOKBOOK_COUNTRIES[c].length]]);
  const text = TEXT_PREFIX + picked.map(([, x]) => x).join(", ");
  const completion = COMPLETION_PREFIX + picked.map(([c, x]) => `${c}: ${x}`).join("\n\n");
  return `${i},0,"${text}","${completion}"`;
});
// The current create: the CSV (current layout, BOM) in the emulator's object store, then JSON.
emu.putObject(
  "bench",
  "train.csv",
  new TextEncoder().encode("\uFEFF" + ["C_ID,T_ID,Text,Completion", ...rows].join("\n")),
);
const created = await (await fetch(`${emu.url}/tuning/v2/tasks`, {
  method: "POST",
  headers,
  body: JSON.stringify({
    model: "HCX-003",
    trainingDatasetBucket: "bench",
    trainingDatasetFilePath: "train.csv",
    trainingDatasetAccessKey: "bench-access",
    trainingDatasetSecretKey: "bench-secret",
  }),
})).json();
const taskId: string = created.result.id;
for (;;) {
  const t = await (await fetch(`${emu.url}/tuning/v2/tasks/${taskId}`, { headers })).json();
  if (t.result.status === "SUCCEEDED") break;
  await new Promise((r) => setTimeout(r, 20));
}

const countries = CONTINENTS.flatMap((c) => COOKBOOK_COUNTRIES[c].slice(0, 4)).join(", ");
let seed = 0;
const body = () =>
  JSON.stringify({
    messages: [{ role: "system", content: "" }, { role: "user", content: TEXT_PREFIX + countries }],
    maxTokens: 256,
    seed: ++seed,
  });

async function chat(path: string): Promise<void> {
  const res = await fetch(`${emu.url}${path}`, { method: "POST", headers, body: body() });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  await res.json();
}

Deno.bench("chat v1 base model, sequential (1 request)", { group: "seq" }, async () => {
  await chat("/v1/chat-completions/HCX-003");
});

Deno.bench("chat v1 tuned task, sequential (1 request)", { group: "seq" }, async () => {
  await chat(`/v2/tasks/${taskId}/chat-completions`);
});

Deno.bench("task GET, sequential (1 request)", { group: "seq" }, async () => {
  await (await fetch(`${emu.url}/tuning/v2/tasks/${taskId}`, { headers })).json();
});

Deno.bench("chat v1 tuned task, concurrent ×32 (32 requests)", { group: "conc" }, async () => {
  await Promise.all(
    Array.from({ length: 32 }, () => chat(`/v2/tasks/${taskId}/chat-completions`)),
  );
});

Deno.bench("chat v1 SSE tuned task, sequential (1 request)", { group: "seq" }, async () => {
  const res = await fetch(`${emu.url}/v2/tasks/${taskId}/chat-completions`, {
    method: "POST",
    headers: { ...headers, accept: "text/event-stream" },
    body: body(),
  });
  await res.text();
});

globalThis.addEventListener("unload", () => {
  void emu.close();
});
