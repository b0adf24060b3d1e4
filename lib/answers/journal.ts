/**
 * The answer journal: an append-only JSON-lines file (`answers/<label>.jsonl`) holding one
 * {@link AnswerRecord} per answered (or permanently failed) prompt × repeat. It is the only
 * append-only file of a run; everything about the answers (the result sheet, the scores, the
 * report) is generated from it.
 *
 * Crash safety: records are written whole, in order, and each `append` resolves only after its
 * bytes are on disk (`fdatasync`). Records that arrive while a sync is running are written and
 * synced together with the next one (group commit), so the journal keeps up with thousands of
 * answers a second. A crash (even SIGKILL) loses at most the requests in flight and can leave at
 * most one torn last line: bytes after the last newline are never a record; readers ignore them
 * and {@link openJournal} cuts them off before appending.
 *
 * Keys: an answer is identified by `(index, repeat)`, the prompt's position in its sheet and the
 * repeat. A journal may hold several lines for one key (a failure journaled, then answered on
 * `--resume`); the **last answer wins, else the last failure** — this rule lives here only.
 *
 * Memory: {@link scanJournal} reads the file as a stream and keeps, per key, only where its
 * winning line is (16 bytes a key), so journals of millions of lines are read in flat memory;
 * {@link journalRecords} then streams the winners in key order.
 *
 * @module
 */
import { dirname } from "node:path";
import { FileWriteError, hash32, readAt, writeFailure } from "../io/mod.ts";
import { type AnswerRecord, AnswerRecordSchema, type Prompt } from "../run/mod.ts";

export type { AnswerRecord };

/** Raised when a journal line (other than a torn last line) is not a valid record. */
export class JournalFormatError extends Error {
  constructor(readonly path: string, readonly line: number, detail: string) {
    super(`${path}: line ${line} is not a valid answer record: ${detail}`);
    this.name = "JournalFormatError";
  }
}

/** A 32-bit fingerprint of a prompt (FNV-1a over its fields), to tell a changed sheet on resume. */
export function promptFingerprint(p: Prompt): number {
  const text = `${p.id}\u0000${p.system}\u0000${p.user}\u0000${p.countries.join("\u0001")}` +
    `\u0000${p.countryCount}\u0000${p.continentCount}`;
  return hash32(text) || 1;
}

/** A key's state in a {@link JournalIndex}. */
export const KeyState = { None: 0, Failed: 1, Answered: 2 } as const;

/** A key's state in a {@link JournalIndex}: none, failed or answered. */
export type KeyState = typeof KeyState[keyof typeof KeyState];

interface RepeatTable {
  state: Uint8Array;
  offset: Float64Array;
  length: Uint32Array;
}

function grown<T extends Uint8Array | Uint32Array | Float64Array>(a: T, size: number): T {
  if (size <= a.length) return a;
  let n = Math.max(1024, a.length);
  while (n < size) n *= 2;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/**
 * Where each key's winning line sits in one journal file, plus what the journal holds: labels,
 * sampling parameters per repeat and prompt fingerprints per index. Built by {@link scanJournal}
 * and kept up to date by the batch runner as it appends.
 */
export class JournalIndex {
  /** Valid lines read or appended. */
  lines = 0;
  /** 1 when bytes after the last newline (a torn write) were ignored. */
  tornLines = 0;
  /** Labels seen. */
  readonly labels: Set<string> = new Set();
  /** Stable JSON of the sampling parameters seen, by repeat. */
  readonly paramsByRepeat: Map<number, Set<string>> = new Map();
  #repeats: RepeatTable[] = [];
  #fingerprints: Uint32Array = new Uint32Array(0);

  constructor(readonly path: string) {}

  /** Notes one line at `offset` (`length` bytes, newline included), applying the winner rule. */
  add(rec: AnswerRecord, offset: number, length: number): void {
    this.lines++;
    this.labels.add(rec.label);
    const paramsKey = stableJson(rec.params);
    let seen = this.paramsByRepeat.get(rec.repeat);
    if (!seen) this.paramsByRepeat.set(rec.repeat, seen = new Set());
    if (seen.size < 4) seen.add(paramsKey);
    while (this.#repeats.length <= rec.repeat) {
      this.#repeats.push({
        state: new Uint8Array(0),
        offset: new Float64Array(0),
        length: new Uint32Array(0),
      });
    }
    const t = this.#repeats[rec.repeat];
    const i = rec.index;
    t.state = grown(t.state, i + 1);
    t.offset = grown(t.offset, i + 1);
    t.length = grown(t.length, i + 1);
    const answered = rec.error === null;
    if (answered || t.state[i] !== KeyState.Answered) {
      t.state[i] = answered ? KeyState.Answered : KeyState.Failed;
      t.offset[i] = offset;
      t.length[i] = length;
    }
    this.#fingerprints = grown(this.#fingerprints, i + 1);
    if (this.#fingerprints[i] === 0) this.#fingerprints[i] = promptFingerprint(rec.prompt);
  }

  /** The state of key `(index, repeat)`. */
  state(index: number, repeat: number): KeyState {
    const t = this.#repeats[repeat];
    return t && index < t.state.length ? t.state[index] as KeyState : KeyState.None;
  }

  /** Fingerprint of the prompt journaled at `index` (0 when none). */
  fingerprint(index: number): number {
    return index < this.#fingerprints.length ? this.#fingerprints[index] : 0;
  }

  /** Repeats with any line (0 … repeats − 1). */
  get repeats(): number {
    return this.#repeats.length;
  }

  /** Indexes with room in the tables of `repeat` (every index with a line is below it). */
  indexLimit(repeat: number): number {
    return this.#repeats[repeat]?.state.length ?? 0;
  }

  /** Where the winning line of a key is, if any. */
  location(index: number, repeat: number): { offset: number; length: number } | undefined {
    const t = this.#repeats[repeat];
    if (!t || index >= t.state.length || t.state[index] === KeyState.None) return undefined;
    return { offset: t.offset[index], length: t.length[index] };
  }

  /** Counts of keys answered and failed (`limit`: only indexes below it and repeats below it). */
  counts(limit?: { prompts: number; repeats: number }): { answered: number; failed: number } {
    let answered = 0;
    let failed = 0;
    const repeats = Math.min(this.#repeats.length, limit?.repeats ?? Infinity);
    for (let r = 0; r < repeats; r++) {
      const s = this.#repeats[r].state;
      const n = Math.min(s.length, limit?.prompts ?? Infinity);
      for (let i = 0; i < n; i++) {
        if (s[i] === KeyState.Answered) answered++;
        else if (s[i] === KeyState.Failed) failed++;
      }
    }
    return { answered, failed };
  }
}

/** JSON with object keys sorted (undefined fields dropped), for comparing parameter sets. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const CHUNK = 1 << 20;

/**
 * Reads a file's complete lines as a stream: `(text, offset, length, lineNo)`, `length` counting
 * the newline. Bytes after the last newline are not a line; their count is returned.
 */
async function eachLine(
  path: string,
  fn: (text: string, offset: number, length: number, lineNo: number) => void,
): Promise<{ trailing: number }> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { trailing: 0 };
    throw e;
  }
  const decoder = new TextDecoder();
  let carry = new Uint8Array(0);
  let carryOffset = 0;
  let lineNo = 0;
  try {
    const chunk = new Uint8Array(CHUNK);
    for (;;) {
      const n = await file.read(chunk);
      if (n === null) break;
      let data = chunk.subarray(0, n);
      if (carry.length) {
        const joined = new Uint8Array(carry.length + n);
        joined.set(carry);
        joined.set(data, carry.length);
        data = joined;
      }
      let start = 0;
      for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
        lineNo++;
        fn(decoder.decode(data.subarray(start, nl)), carryOffset + start, nl + 1 - start, lineNo);
        start = nl + 1;
      }
      carryOffset += start;
      carry = data.slice(start);
    }
  } finally {
    file.close();
  }
  return { trailing: carry.length };
}

function parseRecord(path: string, lineNo: number, text: string): AnswerRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new JournalFormatError(path, lineNo, (e as Error).message);
  }
  const parsed = AnswerRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new JournalFormatError(
      path,
      lineNo,
      `${issue.path.join(".") || "(record)"}: ${issue.message}`,
    );
  }
  return parsed.data;
}

/**
 * Reads a journal as a stream into a {@link JournalIndex}. A missing file is an empty journal;
 * bytes after the last newline (a torn write) are ignored and counted; any other bad line throws
 * {@link JournalFormatError} naming the file and line. `onRecord` sees every valid line in file
 * order.
 */
export async function scanJournal(
  path: string,
  opts: { onRecord?: (rec: AnswerRecord, lineNo: number) => void } = {},
): Promise<JournalIndex> {
  const index = new JournalIndex(path);
  const { trailing } = await eachLine(path, (text, offset, length, lineNo) => {
    if (text.trim() === "") return;
    const rec = parseRecord(path, lineNo, text);
    opts.onRecord?.(rec, lineNo);
    index.add(rec, offset, length);
  });
  index.tornLines = trailing > 0 ? 1 : 0;
  return index;
}

/**
 * Streams the winning record of every key of `index` (see the module doc), repeat by repeat and
 * in sheet order within a repeat; `limit` skips keys outside the sheet × repeats.
 */
export async function* journalRecords(
  index: JournalIndex,
  limit?: { prompts: number; repeats: number },
): AsyncGenerator<AnswerRecord> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(index.path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  const decoder = new TextDecoder();
  // A window over the file: winners are mostly in file order, so most reads hit it.
  let window = new Uint8Array(0);
  let windowStart = 0;
  try {
    const repeats = Math.min(index.repeats, limit?.repeats ?? Infinity);
    for (let r = 0; r < repeats; r++) {
      const n = Math.min(index.indexLimit(r), limit?.prompts ?? Infinity);
      for (let i = 0; i < n; i++) {
        const at = index.location(i, r);
        if (!at) continue;
        if (at.offset < windowStart || at.offset + at.length > windowStart + window.length) {
          // Centre the window a little before the line: the lines around it are out of order
          // by at most the runner's concurrency, mostly.
          const start = Math.max(0, at.offset - (CHUNK >> 3));
          const size = Math.max(CHUNK, at.offset + at.length - start);
          window = await readAt(file, start, size);
          windowStart = start;
        }
        const from = at.offset - windowStart;
        const text = decoder.decode(window.subarray(from, from + at.length - 1));
        // Validated by the scan that built the index; parsing again here is enough.
        yield JSON.parse(text) as AnswerRecord;
      }
    }
  } finally {
    file.close();
  }
}

/** The winning record of one key, read from the file (undefined when the key has none). */
export async function recordAt(
  index: JournalIndex,
  promptIndex: number,
  repeat: number,
): Promise<AnswerRecord | undefined> {
  const at = index.location(promptIndex, repeat);
  if (!at) return undefined;
  const file = await Deno.open(index.path, { read: true });
  try {
    await file.seek(at.offset, Deno.SeekMode.Start);
    const buf = new Uint8Array(at.length);
    let got = 0;
    while (got < buf.length) {
      const n = await file.read(buf.subarray(got));
      if (n === null) break;
      got += n;
    }
    return JSON.parse(new TextDecoder().decode(buf.subarray(0, got))) as AnswerRecord;
  } finally {
    file.close();
  }
}

/** Reads a whole journal: the winning record of every key, in key order (small journals). */
export async function readJournal(path: string): Promise<AnswerRecord[]> {
  const out: AnswerRecord[] = [];
  for await (const rec of journalRecords(await scanJournal(path))) out.push(rec);
  return out;
}

/** An open journal: `append` resolves once its line is on disk; lines keep call order. */
export interface JournalWriter {
  readonly path: string;
  /** Appends one record; resolves with where its line sits once it is synced. */
  append(record: AnswerRecord): Promise<{ offset: number; length: number }>;
  close(): Promise<void>;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}

/** Length of the file up to and including its last newline (0 when it has none). */
async function lengthToLastNewline(file: Deno.FsFile, size: number): Promise<number> {
  const chunk = new Uint8Array(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    await file.seek(start, Deno.SeekMode.Start);
    const view = chunk.subarray(0, end - start);
    let got = 0;
    while (got < view.length) {
      const n = await file.read(view.subarray(got));
      if (n === null) break;
      got += n;
    }
    const i = view.subarray(0, got).lastIndexOf(0x0a);
    if (i >= 0) return start + i + 1;
    end = start;
  }
  return 0;
}

/**
 * Opens (creating folders and file as needed) a journal for appending. Bytes after the last
 * newline (a torn write) are cut off first: that answer never finished being recorded, so it
 * counts as in flight and `--resume` asks for it again.
 */
export async function openJournal(path: string): Promise<JournalWriter> {
  let file: Deno.FsFile;
  let size: number;
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    file = await Deno.open(path, { read: true, write: true, create: true });
    size = (await file.stat()).size;
    if (size > 0) {
      const keep = await lengthToLastNewline(file, size);
      if (keep < size) await file.truncate(keep);
      size = keep;
    }
    await file.seek(size, Deno.SeekMode.Start);
  } catch (e) {
    throw writeFailure(path, e);
  }
  const encoder = new TextEncoder();
  type Pending = {
    bytes: Uint8Array;
    resolve: (at: { offset: number; length: number }) => void;
    reject: (e: unknown) => void;
  };
  let pending: Pending[] = [];
  let flushing: Promise<void> | undefined;
  // The first failed write: the file may end in part of a batch, so nothing is written after it
  // (a later line would follow a torn one); every pending and later append is rejected with it.
  let failed: FileWriteError | undefined;
  let closed = false;

  const flush = async () => {
    while (pending.length && !failed) {
      const batch = pending;
      pending = [];
      const total = batch.reduce((n, p) => n + p.bytes.length, 0);
      const bytes = new Uint8Array(total);
      let at = 0;
      for (const p of batch) {
        bytes.set(p.bytes, at);
        at += p.bytes.length;
      }
      try {
        await writeAll(file, bytes);
        await file.syncData();
      } catch (e) {
        failed = writeFailure(path, e);
        for (const p of batch) p.reject(failed);
        break;
      }
      let offset = size;
      size += total;
      for (const p of batch) {
        p.resolve({ offset, length: p.bytes.length });
        offset += p.bytes.length;
      }
    }
    if (failed) {
      const left = pending;
      pending = [];
      for (const p of left) p.reject(failed);
    }
  };
  // `flushing` is cleared by the promise's own continuation, never inside `flush` (which may
  // finish before its promise is stored); lines queued meanwhile start the next flush.
  const startFlush = () => {
    if (flushing) return;
    flushing = flush().finally(() => {
      flushing = undefined;
      if (pending.length) startFlush();
    });
  };

  return {
    path,
    append(record) {
      if (closed) return Promise.reject(new Error(`journal ${path} is closed`));
      if (failed) return Promise.reject(failed);
      let line: string;
      try {
        line = JSON.stringify(AnswerRecordSchema.parse(record)) + "\n";
      } catch (e) {
        return Promise.reject(e);
      }
      return new Promise((resolve, reject) => {
        pending.push({ bytes: encoder.encode(line), resolve, reject });
        startFlush();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      while (flushing) await flushing;
      file.close();
    },
  };
}
