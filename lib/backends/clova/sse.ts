/**
 * Incremental Server-Sent Events parser for CLOVA Studio streams (`id:` / `event:` / `data:` lines,
 * blank-line separated, with or without a space after the colon, LF / CRLF / CR line ends, events
 * and even UTF-8 characters split across network chunks).
 * @module
 */

/** One dispatched SSE event. */
export interface SseEvent {
  /** `event:` field ("message" when absent, as in the SSE spec). */
  event: string;
  /** `data:` lines joined with "\n". */
  data: string;
  /** Last `id:` seen (sticky across events, as in the spec). */
  id?: string;
}

/** Push-style parser: feed decoded text, get complete events back. */
export class SseParser {
  #buf = "";
  #pendingCR = false;
  #event = "";
  #data: string[] = [];
  #hasData = false;
  #id: string | undefined;

  /** Feed the next piece of text; returns the events completed by it. */
  push(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    let s = text;
    if (this.#pendingCR) {
      // A CR ended the previous chunk: a following LF belongs to it.
      if (s.startsWith("\n")) s = s.slice(1);
      this.#pendingCR = false;
    }
    this.#buf += s;
    let start = 0;
    for (let i = 0; i < this.#buf.length; i++) {
      const c = this.#buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.#buf.slice(start, i);
      if (c === 13) {
        if (i + 1 < this.#buf.length) {
          if (this.#buf.charCodeAt(i + 1) === 10) i++;
        } else {
          this.#pendingCR = true;
        }
      }
      start = i + 1;
      const ev = this.#line(line);
      if (ev) out.push(ev);
    }
    this.#buf = this.#buf.slice(start);
    return out;
  }

  /** End of stream: dispatch a last event that lacked its blank line (lenient). */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.#buf.length > 0) {
      const ev = this.#line(this.#buf);
      this.#buf = "";
      if (ev) out.push(ev);
    }
    const last = this.#dispatch();
    if (last) out.push(last);
    return out;
  }

  #line(line: string): SseEvent | undefined {
    if (line === "") return this.#dispatch();
    if (line.startsWith(":")) return undefined; // comment / keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.#event = value;
        break;
      case "data":
        this.#data.push(value);
        this.#hasData = true;
        break;
      case "id":
        if (!value.includes("\0")) this.#id = value;
        break;
      default:
        break; // "retry" and unknown fields are ignored
    }
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const had = this.#hasData || this.#event !== "";
    const ev: SseEvent = {
      event: this.#event || "message",
      data: this.#data.join("\n"),
      id: this.#id,
    };
    this.#event = "";
    this.#data = [];
    this.#hasData = false;
    return had ? ev : undefined;
  }
}

/** Parse a byte stream into SSE events as they complete. */
export async function* parseSseStream(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<SseEvent, void, undefined> {
  const parser = new SseParser();
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let finished = false;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const ev of parser.push(value)) yield ev;
    }
    finished = true;
    for (const ev of parser.end()) yield ev;
  } finally {
    // The consumer stopped early (result event, error): close the connection.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
