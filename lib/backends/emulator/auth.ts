/**
 * Authentication as the emulator enforces it (reference §1):
 *
 * - `Authorization: Bearer <api key>` — a configured key (`nv-…` style); an unknown `nv-` key →
 *   401 `40100` Unauthorized.
 * - `Authorization: Bearer <access token>` from the legacy `GET /v1/auth/token` — expired →
 *   401 `40103` "Access token expired"; unknown → 401 `40102` "Invalid access token".
 * - Legacy header pair `X-NCP-CLOVASTUDIO-API-KEY` + `X-NCP-APIGW-API-KEY` — unknown app key →
 *   `40100`; known app key with the wrong gateway key → `40104` "Invalid key".
 * - Any other `Authorization` scheme → `40102` "Invalid Authentication Type"; nothing → `40100`.
 * - Token endpoint (`Authorization: Basic base64(id:secret)`): missing/malformed → `40100`,
 *   unknown client id → `40104`, wrong secret → `40101` "Invalid signature". The result is
 *   `{accessToken, tokenType: "Bearer", expiresIn}` with `expiresIn` an absolute epoch-ms expiry;
 *   `existingToken=true` returns the caller's live token with the longest remaining lifetime.
 *
 * Secrets are compared, never logged or echoed.
 *
 * @module
 */
import { type ApiError, apiError } from "./envelope.ts";

/** Credentials the emulator accepts. */
export interface EmulatorCredentials {
  apiKeys?: string[];
  keyPairs?: { clovaStudioApiKey: string; apigwApiKey: string }[];
  clients?: { clientId: string; clientSecret: string }[];
  /** Lifetime of legacy access tokens (ms, default 1 hour). */
  tokenTtlMs?: number;
}

/** Which credential authenticated a request. */
export type AuthKind = "api-key" | "key-pair" | "token";

interface IssuedToken {
  clientId: string;
  expiresAt: number;
}

/** Credential checks and the legacy token table. */
export class Authenticator {
  #apiKeys: Set<string>;
  #pairs: Map<string, string>;
  #clients: Map<string, string>;
  #ttl: number;
  #tokens = new Map<string, IssuedToken>();
  #now: () => number;

  constructor(creds: EmulatorCredentials, now: () => number = Date.now) {
    this.#apiKeys = new Set(creds.apiKeys ?? []);
    this.#pairs = new Map((creds.keyPairs ?? []).map((p) => [p.clovaStudioApiKey, p.apigwApiKey]));
    this.#clients = new Map((creds.clients ?? []).map((c) => [c.clientId, c.clientSecret]));
    this.#ttl = creds.tokenTtlMs ?? 3_600_000;
    this.#now = now;
  }

  /** Checks a native API request; returns how it authenticated or the error to send. */
  // rule: auth.bearer
  check(headers: Headers): AuthKind | ApiError {
    const authz = headers.get("authorization");
    if (authz) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(authz);
      if (!m) return apiError("40102", "Invalid Authentication Type");
      const value = m[1];
      if (this.#apiKeys.has(value)) return "api-key";
      const tok = this.#tokens.get(value);
      if (tok) return tok.expiresAt > this.#now() ? "token" : apiError("40103");
      return value.startsWith("nv-") ? apiError("40100") : apiError("40102");
    }
    const app = headers.get("x-ncp-clovastudio-api-key");
    if (app !== null) {
      const gw = headers.get("x-ncp-apigw-api-key");
      const expected = this.#pairs.get(app);
      if (expected === undefined) return apiError("40100");
      return gw === expected ? "key-pair" : apiError("40104");
    }
    return apiError("40100");
  }

  /** Checks an OpenAI-compatible request: only `Bearer <api key>` is accepted. */
  // rule: auth.bearer (the OpenAI-compatible API takes API keys only)
  checkApiKey(headers: Headers): "api-key" | ApiError {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
    if (!m) return apiError("40100");
    return this.#apiKeys.has(m[1]) ? "api-key" : apiError("40100");
  }

  /** `GET /v1/auth/token`: issues (or, with `existing`, reuses) a legacy access token. */
  // rule: auth.token-2024
  issueToken(
    headers: Headers,
    existing: boolean,
  ): { accessToken: string; tokenType: "Bearer"; expiresIn: number } | ApiError {
    const m = /^Basic\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
    if (!m) return apiError("40100");
    let decoded: string;
    try {
      decoded = new TextDecoder().decode(Uint8Array.from(atob(m[1]), (c) => c.charCodeAt(0)));
    } catch {
      return apiError("40100");
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) return apiError("40100");
    const id = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    const expected = this.#clients.get(id);
    if (expected === undefined) return apiError("40104");
    if (expected !== secret) return apiError("40101");
    const now = this.#now();
    if (existing) {
      let best: [string, IssuedToken] | undefined;
      for (const entry of this.#tokens) {
        if (entry[1].clientId !== id || entry[1].expiresAt <= now) continue;
        if (!best || entry[1].expiresAt > best[1].expiresAt) best = entry;
      }
      if (best) return { accessToken: best[0], tokenType: "Bearer", expiresIn: best[1].expiresAt };
    }
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    const token = "emu-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    const expiresAt = now + this.#ttl;
    this.#tokens.set(token, { clientId: id, expiresAt });
    return { accessToken: token, tokenType: "Bearer", expiresIn: expiresAt };
  }

  /** Makes every issued token expired now (tests of the `40103` refresh path). */
  expireTokens(): void {
    const now = this.#now();
    for (const t of this.#tokens.values()) t.expiresAt = Math.min(t.expiresAt, now);
  }
}
