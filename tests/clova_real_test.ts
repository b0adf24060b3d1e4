// The client contract suite against the real CLOVA Studio, when credentials are in the
// environment (or `.env`); skipped, saying so, otherwise.
//
//   CLOVA_STUDIO_API_KEY (or the key pair / client id+secret, see lib/backends/clova/env.ts)
//   CLOVA_STUDIO_TEST_V1_MODEL   default HCX-003
//   CLOVA_STUDIO_TEST_V3_MODEL   default HCX-005 ("none" on hosts without v3, e.g. the legacy host)
//   CLOVA_STUDIO_TEST_TUNING=1   also run the tuning cases (creates real tasks: costs money, may
//                                take hours); model CLOVA_STUDIO_TEST_TUNING_MODEL (default HCX-003)
//   NCP_OBJECT_STORAGE_BUCKET, NCP_OBJECT_STORAGE_ACCESS_KEY, NCP_OBJECT_STORAGE_SECRET_KEY
//   (and NCP_OBJECT_STORAGE_ENDPOINT)  the bucket the current API reads tuning data from; the
//                                tuning cases need it and an API key (the current API)
//
// Without CLOVA_STUDIO_TEST_TUNING the suite only reads (chat, tokenize, list, get) and makes
// requests the service refuses (wrong key, out-of-range parameter, unknown task). With it: a
// 100-row current-format CSV uploaded to the bucket under contract-tests/ and a task created from
// it, waited for, asked on v1 and v3 (plain and streamed), found by name and deleted; the
// documented dataset failures; a missing object. Every task the suite makes is deleted, even when
// a case fails; no object is deleted.
import {
  clovaOptionsFromEnv,
  objectStorageFromEnv,
  readEnvironment,
} from "../lib/backends/clova/mod.ts";
import type { ClovaClientOptions } from "../lib/backends/clova/mod.ts";
import { type ContractTarget, registerContractSuite } from "./clova_contract_suite.ts";

const env = readEnvironment();
const KEYS = {
  "api-key": ["CLOVA_STUDIO_API_KEY", "CLOVASTUDIO_API_KEY"],
  "key-pair": ["CLOVA_STUDIO_APP_KEY", "CLOVA_STUDIO_APIGW_KEY"],
  "client-credentials": ["CLOVA_STUDIO_CLIENT_ID", "CLOVA_STUDIO_CLIENT_SECRET"],
} as const;
const ALL = Object.values(KEYS).flat() as string[];

/** Options for one scheme only (the others' variables removed). */
function only(kind: keyof typeof KEYS): ClovaClientOptions | undefined {
  const e: Record<string, string | undefined> = { ...env };
  for (const k of ALL) if (!(KEYS[kind] as readonly string[]).includes(k)) delete e[k];
  const o = clovaOptionsFromEnv(e);
  return o && o.auth.kind === kind ? o : undefined;
}

const auth: ContractTarget["auth"] = {};
for (const kind of Object.keys(KEYS) as (keyof typeof KEYS)[]) {
  const o = only(kind);
  if (o) auth[kind] = o;
}
const primary = auth["api-key"] ?? auth["key-pair"] ?? auth["client-credentials"];

if (!primary) {
  console.log(
    "clova_real_test: skipped: no CLOVA_STUDIO_API_KEY (nor key pair / client id+secret) in the environment or .env",
  );
}

registerContractSuite(
  "contract suite against the real CLOVA Studio",
  () => {
    if (!primary) return Promise.resolve(undefined);
    const v3 = env.CLOVA_STUDIO_TEST_V3_MODEL ?? "HCX-005";
    const tuning = env.CLOVA_STUDIO_TEST_TUNING === "1"
      ? {
        model: env.CLOVA_STUDIO_TEST_TUNING_MODEL ?? "HCX-003",
        pollIntervalMs: 30_000,
        timeoutMs: 8 * 3600_000,
      }
      : undefined;
    const target: ContractTarget = {
      name: "CLOVA Studio",
      auth,
      badAuth: {
        baseUrl: primary.baseUrl,
        auth: { kind: "api-key", apiKey: "nv-invalid-contract-test-key" },
        retry: { maxAttempts: 1 },
      },
      v1Model: env.CLOVA_STUDIO_TEST_V1_MODEL ?? "HCX-003",
      v3Model: v3 === "none" ? undefined : v3,
      tuning,
      objectStorage: objectStorageFromEnv(env),
    };
    return Promise.resolve({ target, close: () => Promise.resolve() });
  },
  { ignore: !primary },
);
