/**
 * `deno task emulator` — runs the local CLOVA Studio emulator until Ctrl-C and prints its URL and
 * the throwaway credentials it accepts (as `export` lines for the client's environment names).
 *
 * ```
 * deno task emulator --port 0 --seed 1 --state-dir /tmp/emu --fault-429 0.1 --latency-ms 200
 * ```
 *
 * Credentials are generated at random on every start unless given (`--api-key`, `--app-key` +
 * `--apigw-key`, `--client-id` + `--client-secret`); they are printed because they only unlock
 * this local process.
 *
 * @module
 */
import {
  choiceFlag,
  intFlag,
  numberFlag,
  parseFlags,
  printUsage,
  runCli,
  UsageError,
} from "./args.ts";
import { startEmulator } from "../backends/emulator/mod.ts";

const USAGE = `usage: deno task emulator [options]
  --port N                 port (0 = free port; default 0)
  --hostname H             interface (default 127.0.0.1)
  --seed N                 seed for ids, tie-breaks, sampling and faults (default 1)
  --state-dir DIR          persist tasks here (resumable)
  --compat cookbook-2024   accept the cookbook's 2024 datasets (two columns, under 100 rows,
                           no BOM); default: the current docs' rules, strictly
  --training-speed N       emulated training steps per second (default 1000)
  --wait-ms N              time a task stays in WAIT (default 100)
  --token-ttl-ms N         legacy access-token lifetime (default 3600000)
  --no-rate-limits         disable per-model QPM/TPM limits
  --qpm N --tpm N          override QPM/TPM for every model
  --fault-seed N           seed of the fault stream (default --seed)
  --fault-429 R --fault-500 R --fault-504 R --fault-drop R --fault-stall R   fault shares 0–1
  --stall-ms N             how long a stall holds a request (default 10000)
  --latency-ms N           mean added latency; --latency-jitter-ms N (uniform ±)
  --api-key K              accept this Bearer key (default: random nv-… key)
  --app-key K --apigw-key K          legacy header pair (default: random)
  --client-id I --client-secret S    legacy token flow client (default: random)
  --verbose                log one line per request to stderr`;

const OPTIONS = {
  port: { type: "string" },
  hostname: { type: "string" },
  seed: { type: "string" },
  "state-dir": { type: "string" },
  compat: { type: "string" },
  "training-speed": { type: "string" },
  "wait-ms": { type: "string" },
  "token-ttl-ms": { type: "string" },
  "no-rate-limits": { type: "boolean" },
  qpm: { type: "string" },
  tpm: { type: "string" },
  "fault-seed": { type: "string" },
  "fault-429": { type: "string" },
  "fault-500": { type: "string" },
  "fault-504": { type: "string" },
  "fault-drop": { type: "string" },
  "fault-stall": { type: "string" },
  "stall-ms": { type: "string" },
  "latency-ms": { type: "string" },
  "latency-jitter-ms": { type: "string" },
  "api-key": { type: "string" },
  "app-key": { type: "string" },
  "apigw-key": { type: "string" },
  "client-id": { type: "string" },
  "client-secret": { type: "string" },
  verbose: { type: "boolean" },
} as const;

function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** Parses flags, starts the emulator and waits for Ctrl-C. */
export async function main(args: string[]): Promise<number> {
  const values = parseFlags(args, OPTIONS);
  if (values.help) return printUsage(USAGE);
  const compat = choiceFlag("compat", values.compat, ["cookbook-2024"]);
  const ms = (flag: "wait-ms" | "token-ttl-ms" | "stall-ms" | "latency-ms" | "latency-jitter-ms") =>
    intFlag(flag, values[flag], { min: 0 });
  const share = (flag: "fault-429" | "fault-500" | "fault-504" | "fault-drop" | "fault-stall") =>
    numberFlag(flag, values[flag], { min: 0, max: 1 });
  const port = intFlag("port", values.port, { min: 0, max: 65535 }) ?? 0;
  const seed = intFlag("seed", values.seed, { min: 0 });
  const faultSeed = intFlag("fault-seed", values["fault-seed"], { min: 0 });
  const trainingSpeed = numberFlag("training-speed", values["training-speed"], { above: 0 });
  const qpm = intFlag("qpm", values.qpm);
  const tpm = intFlag("tpm", values.tpm);
  const faults = {
    seed: faultSeed,
    rate429: share("fault-429"),
    rate500: share("fault-500"),
    rate504: share("fault-504"),
    drop: share("fault-drop"),
    stall: share("fault-stall"),
    stallMs: ms("stall-ms"),
  };
  const shares = [faults.rate429, faults.rate500, faults.rate504, faults.drop, faults.stall];
  if (shares.reduce((a: number, b) => a + (b ?? 0), 0) > 1) {
    throw new UsageError("the --fault-* shares add up to more than 1");
  }
  const latencyMs = ms("latency-ms");
  const jitter = ms("latency-jitter-ms");
  const apiKey = values["api-key"] ?? `nv-emu${randomHex(16)}`;
  const pair = {
    clovaStudioApiKey: values["app-key"] ?? `emu-app-${randomHex(12)}`,
    apigwApiKey: values["apigw-key"] ?? `emu-gw-${randomHex(12)}`,
  };
  const client = {
    clientId: values["client-id"] ?? `emu-client-${randomHex(6)}`,
    clientSecret: values["client-secret"] ?? `emu-secret-${randomHex(12)}`,
  };
  let rateLimits: false | Record<string, { qpm: number; tpm: number }> | undefined;
  if (values["no-rate-limits"]) rateLimits = false;
  else if (qpm !== undefined || tpm !== undefined) {
    const { MODELS } = await import("../backends/emulator/models.ts");
    rateLimits = Object.fromEntries(
      Object.values(MODELS).map((m) => [m.name, { qpm: qpm ?? m.qpm, tpm: tpm ?? m.tpm }]),
    );
  }
  const emu = await startEmulator({
    port,
    hostname: values.hostname,
    seed,
    stateDir: values["state-dir"],
    compat: compat ?? "strict",
    trainingSpeed,
    waitMs: ms("wait-ms"),
    credentials: {
      apiKeys: [apiKey],
      keyPairs: [pair],
      clients: [client],
      tokenTtlMs: ms("token-ttl-ms"),
    },
    rateLimits,
    faults,
    latency: latencyMs !== undefined || jitter !== undefined
      ? { meanMs: latencyMs ?? 0, jitterMs: jitter }
      : undefined,
    quiet: !values.verbose,
  });
  console.log(
    `CLOVA Studio emulator (reference learner, emulator tokenizer v1, ${
      emu.compat === "strict" ? "strict: the current docs' rules" : "cookbook-2024 dataset rules"
    }) at ${emu.url}`,
  );
  console.log(`Object Storage (S3, path-style): ${emu.objectStorageUrl}`);
  console.log(`# Local throwaway credentials, valid only for this process:`);
  console.log(`export CLOVA_STUDIO_HOST=${emu.url}`);
  console.log(`export CLOVA_STUDIO_API_KEY=${apiKey}`);
  console.log(`export CLOVA_STUDIO_APP_KEY=${pair.clovaStudioApiKey}`);
  console.log(`export CLOVA_STUDIO_APIGW_KEY=${pair.apigwApiKey}`);
  console.log(`export CLOVA_STUDIO_CLIENT_ID=${client.clientId}`);
  console.log(`export CLOVA_STUDIO_CLIENT_SECRET=${client.clientSecret}`);
  console.log(`export NCP_OBJECT_STORAGE_ENDPOINT=${emu.objectStorageUrl}`);
  console.log(`export NCP_OBJECT_STORAGE_BUCKET=emulator-bucket`);
  console.log(`export NCP_OBJECT_STORAGE_ACCESS_KEY=emu-os-${randomHex(8)}`);
  console.log(`export NCP_OBJECT_STORAGE_SECRET_KEY=emu-os-${randomHex(16)}`);
  console.log(`# (any signed access/secret key is accepted by the emulator's object store)`);
  console.log(`Press Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      Deno.removeSignalListener("SIGINT", stop);
      emu.close().then(resolve);
    };
    Deno.addSignalListener("SIGINT", stop);
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  });
  return 0;
}

if (import.meta.main) await runCli("emulator", USAGE, main);
