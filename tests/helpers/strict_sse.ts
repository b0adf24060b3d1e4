/**
 * A strict, line-oriented reader of CLOVA Studio streams, parsing them the way the public samples
 * do: go-clova's `stream_reader.go` matches the literal prefixes `id:`, `event:` and
 * `data:{"status":`, and the `[DONE]` signal as the exact text `{"data":"[DONE]"}`; NAVER's console
 * samples split the body on "\n", look for a line starting `event:result` and take the next line
 * after its five-character `data:` prefix. Anything those readers would misread is an error here:
 * a CR, a space after a colon, lines out of the `id` / `event` / `data` / blank order, data that
 * is not one line of JSON, a repeated id, an unknown event name, anything after the end.
 */

/** One event as the strict reader saw it. */
export interface StrictEvent {
  id: string;
  event: "token" | "result" | "error" | "signal";
  /** The parsed `data:` JSON. */
  data: unknown;
  /** The `data:` line's text after the prefix, as the samples slice it. */
  raw: string;
}

/** A stream the strict reader refuses, with the 1-based line it stopped at. */
export class StrictSseError extends Error {
  constructor(readonly line: number, reason: string) {
    super(`line ${line}: ${reason}`);
    this.name = "StrictSseError";
  }
}

const EVENTS = new Set(["token", "result", "error", "signal"]);

/** Reads a whole stream body strictly; throws {@link StrictSseError} on the first deviation. */
export function readStrictSse(body: string): StrictEvent[] {
  if (body.includes("\r")) {
    throw new StrictSseError(body.slice(0, body.indexOf("\r")).split("\n").length, "CR in stream");
  }
  const lines = body.split("\n");
  const events: StrictEvent[] = [];
  const ids = new Set<string>();
  let finished = false;
  let i = 0;
  const expect = (prefix: string): string => {
    const line = lines[i];
    if (line === undefined) throw new StrictSseError(i + 1, `expected ${prefix}, got end`);
    if (!line.startsWith(prefix)) {
      throw new StrictSseError(i + 1, `expected ${prefix}…, got ${JSON.stringify(line)}`);
    }
    const value = line.slice(prefix.length);
    if (value.startsWith(" ")) throw new StrictSseError(i + 1, `space after ${prefix}`);
    i++;
    return value;
  };
  while (i < lines.length) {
    if (i === lines.length - 1 && lines[i] === "") break; // the final LF
    if (finished) throw new StrictSseError(i + 1, "lines after the end of the stream");
    const id = expect("id:");
    if (!id) throw new StrictSseError(i, "empty id");
    if (ids.has(id)) throw new StrictSseError(i, `id ${id} repeats`);
    ids.add(id);
    const event = expect("event:");
    if (!EVENTS.has(event)) throw new StrictSseError(i, `unknown event ${event}`);
    const raw = expect("data:");
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      throw new StrictSseError(i, "data is not one line of JSON");
    }
    if (event === "signal" && raw !== '{"data":"[DONE]"}') {
      throw new StrictSseError(i, `signal data ${raw}`);
    }
    if (event === "error" && !raw.startsWith('{"status":')) {
      throw new StrictSseError(i, 'error data does not start with {"status":');
    }
    if (lines[i] !== "") throw new StrictSseError(i + 1, "no blank line after the event");
    i++;
    events.push({ id, event: event as StrictEvent["event"], data, raw });
    if (event === "signal" || event === "error") finished = true;
  }
  if (!body.endsWith("\n\n")) {
    throw new StrictSseError(lines.length, "stream does not end with a blank line");
  }
  return events;
}

/** What NAVER's console sample extracts: the `data:` line after the `event:result` line. */
export function consoleSampleResult(body: string): unknown {
  const lines = body.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith("event:result")) return JSON.parse(lines[i + 1].slice(5));
  }
  return undefined;
}
