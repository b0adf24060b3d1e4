/**
 * Server-Sent Events from CLOVA Studio streams, parsed by `eventsource-parser` (`id:` / `event:` /
 * `data:` lines, blank-line separated, with or without a space after the colon, LF / CRLF / CR
 * line ends, events and even UTF-8 characters split across network chunks).
 * @module
 */
import { createParser, type EventSourceParser } from "eventsource-parser";

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
  #events: SseEvent[] = [];
  #id: string | undefined;
  #parser: EventSourceParser = createParser({
    onId: (id) => this.#id = id,
    onEvent: (e) => this.#events.push({ event: e.event || "message", data: e.data, id: this.#id }),
  });

  /** Feed the next piece of text; returns the events completed by it. */
  push(text: string): SseEvent[] {
    this.#parser.feed(text);
    return this.#take();
  }

  /** End of stream: dispatch a last event that lacked its blank line (lenient). */
  end(): SseEvent[] {
    // Two line ends finish the last line (were it cut after a CR) and then the event.
    this.#parser.feed("\n\n");
    this.#parser.reset();
    return this.#take();
  }

  #take(): SseEvent[] {
    const out = this.#events;
    this.#events = [];
    return out;
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
