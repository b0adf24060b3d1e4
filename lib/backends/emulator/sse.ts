/**
 * Server-sent events in CLOVA Studio's framing (rule: sse.framing): `id:<uuid>`, `event:<name>`,
 * `data:<JSON on one line>`, each line ended by LF, no space after the colon, a blank line after
 * each event and a fresh id per event — the function-calling page's transcript, which strict
 * clients (go-clova's `stream_reader.go`, NAVER's console samples) match literally. The
 * OpenAI-compatible stream uses bare `data: …` lines ending with `data: [DONE]`.
 *
 * @module
 */

/** One CLOVA Studio SSE event. */
export interface SseEvent {
  event: "token" | "result" | "error" | "signal";
  data: unknown;
}

/** Formats one CLOVA-style event block with a fresh id. */
export function formatEvent(e: SseEvent, id: string = crypto.randomUUID()): string {
  return `id:${id}\nevent:${e.event}\ndata:${JSON.stringify(e.data)}\n\n`;
}

const encoder = new TextEncoder();

/** A `text/event-stream` response that emits `blocks` (pre-formatted) as separate chunks. */
export function sseResponse(blocks: readonly string[], headers: HeadersInit = {}): Response {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      // Batch a few blocks per chunk: still incremental, far fewer writes.
      let chunk = "";
      for (let n = 0; n < 8 && i < blocks.length; n++) chunk += blocks[i++];
      if (chunk) controller.enqueue(encoder.encode(chunk));
      if (i >= blocks.length) controller.close();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      ...Object.fromEntries(new Headers(headers)),
    },
  });
}

/** Formats an OpenAI-style `data:` line. */
export function formatData(data: unknown): string {
  return `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}
