/**
 * What a failed `fetch` was: Deno throws `TypeError: fetch failed` and keeps the reason (the DNS
 * lookup, TLS handshake or connection that failed, and the URL) in the error's `cause`. This reads
 * the cause chain into one line that names the host and the reason, without the URL's query.
 *
 * @module
 */

/** The kind of network failure a message describes. */
export type FetchFailureKind =
  | "DNS lookup failed"
  | "TLS handshake failed"
  | "connection refused"
  | "connection reset"
  | "connection timed out"
  | "network error";

const KINDS: [RegExp, FetchFailureKind][] = [
  [
    /dns error|failed to lookup address|name or service not known|getaddrinfo/i,
    "DNS lookup failed",
  ],
  [/certificate|tls|ssl|handshake/i, "TLS handshake failed"],
  [/connection refused|ECONNREFUSED|os error 111/i, "connection refused"],
  [/connection reset|ECONNRESET|os error 104|broken pipe/i, "connection reset"],
  [/timed out|ETIMEDOUT|os error 110/i, "connection timed out"],
];

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/** The messages of `e` and its causes, outermost first. */
function messages(e: unknown): string[] {
  const out: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 6; depth++) {
    if (cur instanceof Error) {
      out.push(cur.message);
      cur = cur.cause;
    } else {
      out.push(String(cur));
      break;
    }
  }
  return out;
}

/**
 * One line for a failed request: `DNS lookup failed for api.example.com: dns error: failed to
 * lookup address information: Name or service not known`. `url` names the host when the error
 * does not.
 */
export function describeFetchFailure(e: unknown, url?: string): string {
  const chain = messages(e).filter((m) => m.trim() !== "");
  // The most specific message is the innermost one that is not the bare "fetch failed".
  let detail = [...chain].reverse().find((m) => !/^fetch failed\.?$/i.test(m.trim())) ??
    chain[0] ?? "fetch failed";
  let host = url === undefined ? undefined : hostOf(url);
  const sending = /error sending request for url \(([^)]*)\):\s*([\s\S]*)$/.exec(detail);
  if (sending) {
    host ??= hostOf(sending[1]);
    detail = sending[2];
  }
  detail = detail.replace(/\?[^\s)]*/g, "").replace(/\s+/g, " ").trim();
  const kind = KINDS.find(([re]) => re.test(detail))?.[1] ?? "network error";
  return `${kind}${host ? ` for ${host}` : ""}: ${detail}`.slice(0, 400);
}
