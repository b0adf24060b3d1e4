/**
 * Client options from the environment (and a `.env` file in the working directory; the real
 * environment wins). Names:
 *
 * | variable | meaning |
 * |---|---|
 * | `CLOVA_STUDIO_API_KEY` (or `CLOVASTUDIO_API_KEY`) | current API key, `Authorization: Bearer nv-…` |
 * | `CLOVA_STUDIO_APP_KEY` + `CLOVA_STUDIO_APIGW_KEY` | legacy pair `X-NCP-CLOVASTUDIO-API-KEY` + `X-NCP-APIGW-API-KEY` (`/testapp` prefix) |
 * | `CLOVA_STUDIO_CLIENT_ID` + `CLOVA_STUDIO_CLIENT_SECRET` | the cookbook's client id/secret token flow (legacy host) |
 * | `CLOVA_STUDIO_HOST` | base URL override (`https://` added when no scheme) |
 * | `NCP_OBJECT_STORAGE_BUCKET`, `NCP_OBJECT_STORAGE_ACCESS_KEY`, `NCP_OBJECT_STORAGE_SECRET_KEY` | the bucket the current API reads tuning data from, and its keys (`NCP_ACCESS_KEY` / `NCP_SECRET_KEY` also read) |
 * | `NCP_OBJECT_STORAGE_ENDPOINT`, `NCP_OBJECT_STORAGE_REGION`, `NCP_OBJECT_STORAGE_PREFIX` | endpoint (default `https://kr.object.ncloudstorage.com`), SigV4 region (default `kr-standard`), key prefix for uploads (default `clova-tuning/`) |
 *
 * When several credentials are set: API key, then key pair, then client credentials. The API key
 * and the key pair select the `current` API generation, client credentials `legacy-2024`.
 * @module
 */
import { type ClovaAuth, makeRedacting } from "./auth.ts";
import { DEFAULT_OBJECT_STORAGE_ENDPOINT, type ObjectStorageConfig } from "./objectStorage.ts";
import type { ClovaClientOptions } from "./options.ts";

/** Host of the current API (API keys, key pairs). */
export const CURRENT_BASE_URL = "https://clovastudio.stream.ntruss.com";
/** Host of the 2024 cookbook's client-credentials flow. */
export const LEGACY_BASE_URL = "https://api-hyperclova.navercorp.com";

/** Parse `.env` text: `KEY=value`, optional `export `, quotes, `#` comments. */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2];
    const q = v[0];
    if ((q === '"' || q === "'") && v.length >= 2 && v.endsWith(q)) {
      v = v.slice(1, -1);
      if (q === '"') v = v.replace(/\\n/g, "\n").replace(/\\"/g, '"');
    } else {
      v = v.replace(/\s+#.*$/, "").trim();
    }
    out[m[1]] = v;
  }
  return out;
}

/** The process environment merged over `.env` in `cwd` (environment wins). Missing file: env only. */
export function readEnvironment(cwd = Deno.cwd()): Record<string, string | undefined> {
  let file: Record<string, string> = {};
  try {
    file = parseDotEnv(Deno.readTextFileSync(`${cwd}/.env`));
  } catch {
    // no .env (or not readable): environment only
  }
  let env: Record<string, string> = {};
  try {
    env = Deno.env.toObject();
  } catch {
    // no --allow-env
  }
  return { ...file, ...env };
}

const get = (env: Record<string, string | undefined>, ...names: string[]) => {
  for (const n of names) {
    const v = env[n]?.trim();
    if (v) return v;
  }
  return undefined;
};

function normalizeHost(h: string): string {
  const withScheme = /^https?:\/\//i.test(h) ? h : `https://${h}`;
  return withScheme.replace(/\/+$/, "");
}

/**
 * Client options from `env` (default: the process environment plus `.env`). Returns undefined
 * when no credentials are set — the caller then uses the local emulator. The returned object
 * prints with its secrets redacted.
 */
export function clovaOptionsFromEnv(
  env: Record<string, string | undefined> = readEnvironment(),
): ClovaClientOptions | undefined {
  const host = get(env, "CLOVA_STUDIO_HOST");
  const apiKey = get(env, "CLOVA_STUDIO_API_KEY", "CLOVASTUDIO_API_KEY");
  const appKey = get(env, "CLOVA_STUDIO_APP_KEY");
  const apigwKey = get(env, "CLOVA_STUDIO_APIGW_KEY");
  const clientId = get(env, "CLOVA_STUDIO_CLIENT_ID");
  const clientSecret = get(env, "CLOVA_STUDIO_CLIENT_SECRET");
  let auth: ClovaAuth;
  let opts: ClovaClientOptions;
  if (apiKey) {
    auth = { kind: "api-key", apiKey };
    opts = { baseUrl: CURRENT_BASE_URL, auth, generation: "current", pathPrefix: "" };
  } else if (appKey && apigwKey) {
    auth = { kind: "key-pair", clovaStudioApiKey: appKey, apigwApiKey: apigwKey };
    opts = { baseUrl: CURRENT_BASE_URL, auth, generation: "current", pathPrefix: "/testapp" };
  } else if (clientId && clientSecret) {
    auth = { kind: "client-credentials", clientId, clientSecret };
    opts = { baseUrl: LEGACY_BASE_URL, auth, generation: "legacy-2024", pathPrefix: "" };
  } else {
    return undefined;
  }
  if (host) opts.baseUrl = normalizeHost(host);
  const timeout = get(env, "CLOVA_STUDIO_TIMEOUT_MS");
  if (timeout !== undefined) {
    const ms = Number(timeout);
    if (!Number.isSafeInteger(ms) || ms < 1) {
      throw new Error(`CLOVA_STUDIO_TIMEOUT_MS=${timeout}: expected a whole number of ms above 0`);
    }
    opts.requestTimeoutMs = ms;
  }
  const storage = objectStorageFromEnv(env);
  if (storage) opts.objectStorage = storage;
  return makeRedacting(opts, "ClovaClientOptions");
}

/** The variables that set up Object Storage, as the README lists them. */
export const OBJECT_STORAGE_VARIABLES = {
  bucket: "NCP_OBJECT_STORAGE_BUCKET",
  accessKey: "NCP_OBJECT_STORAGE_ACCESS_KEY",
  secretKey: "NCP_OBJECT_STORAGE_SECRET_KEY",
  endpoint: "NCP_OBJECT_STORAGE_ENDPOINT",
  region: "NCP_OBJECT_STORAGE_REGION",
  prefix: "NCP_OBJECT_STORAGE_PREFIX",
} as const;

/** Object Storage settings from the environment, or which required variables are missing. */
export type ObjectStorageSettings =
  | { ok: true; config: ObjectStorageConfig; prefix: string }
  | { ok: false; missing: string[] };

/**
 * Reads the Object Storage variables: the bucket and both keys are required (the keys also as
 * `NCP_ACCESS_KEY` / `NCP_SECRET_KEY`), the endpoint, region and upload prefix have defaults.
 */
export function objectStorageSettings(
  env: Record<string, string | undefined> = readEnvironment(),
): ObjectStorageSettings {
  const v = OBJECT_STORAGE_VARIABLES;
  const bucket = get(env, v.bucket);
  const accessKey = get(env, v.accessKey, "NCP_ACCESS_KEY");
  const secretKey = get(env, v.secretKey, "NCP_SECRET_KEY");
  const missing = [
    ...(bucket ? [] : [v.bucket]),
    ...(accessKey ? [] : [v.accessKey]),
    ...(secretKey ? [] : [v.secretKey]),
  ];
  if (missing.length) return { ok: false, missing };
  const endpoint = normalizeHost(get(env, v.endpoint) ?? DEFAULT_OBJECT_STORAGE_ENDPOINT);
  const region = get(env, v.region);
  let prefix = get(env, v.prefix) ?? "clova-tuning/";
  prefix = prefix.replace(/^\/+/, "");
  if (prefix && !prefix.endsWith("/")) prefix += "/";
  const config = makeRedacting(
    {
      endpoint,
      bucket: bucket!,
      accessKey: accessKey!,
      secretKey: secretKey!,
      ...(region ? { region } : {}),
    },
    "ObjectStorageConfig",
  );
  return { ok: true, config, prefix };
}

/** Object Storage settings from `env`, or undefined unless bucket and both keys are set. */
export function objectStorageFromEnv(
  env: Record<string, string | undefined> = readEnvironment(),
): ObjectStorageConfig | undefined {
  const s = objectStorageSettings(env);
  return s.ok ? s.config : undefined;
}
