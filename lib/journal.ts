/**
 * The answer journal: an append-only JSON-lines file (`answers/<label>.jsonl`) holding one
 * {@link AnswerRecord} per answered (or permanently failed) prompt × repeat.
 *
 * Crash safety: every record is written as one line with a single buffered write followed by
 * `fdatasync`, and writes are serialised, so a crash (even SIGKILL) loses at most the requests still
 * in flight and can leave at most one torn last line. {@link readJournal} skips a torn last line,
 * and {@link openJournal} cuts it off before appending, so every later line is whole.
 *
 * Keys: an answer is identified by `(promptId, repeat)`. A journal may hold several lines for one key
 * (a failed attempt journaled, then answered on `--resume`); {@link dedupeRecords} keeps one per key:
 * the last successful answer, else the last failure.
 *
 * @module
 */
import { z } from "zod";
import { dirname } from "node:path";

/** The error recorded for a prompt the runner could not answer (after its retries). */
export const AnswerErrorSchema = z.object({
  code: z.string(),
  httpStatus: z.number().int().optional(),
  message: z.string(),
});

/** One journal line: one answer (or permanent failure) for one prompt × repeat. */
export const AnswerRecordSchema = z.object({
  promptId: z.string().min(1),
  repeat: z.number().int().min(0),
  /** 1-based row in the input sheet (extra to the contract; absent in older journals). */
  row: z.number().int().min(1).optional(),
  label: z.string().min(1),
  model: z.string(),
  size: z.number().int().min(0),
  system: z.string(),
  user: z.string(),
  countries: z.array(z.string()),
  countryCount: z.number().int().min(0),
  continentCount: z.number().int().min(0),
  text: z.string().nullable(),
  finishReason: z.string().optional(),
  inputTokens: z.number().optional(),
  outputTokens: z.number().optional(),
  latencyMs: z.number().min(0),
  requestId: z.string().optional(),
  attempts: z.number().int().min(0),
  params: z.record(z.string(), z.unknown()),
  error: AnswerErrorSchema.nullable(),
  answeredAt: z.string(),
});

/** One journal line (see {@link AnswerRecordSchema}). */
export type AnswerRecord = z.infer<typeof AnswerRecordSchema>;

/** The error part of an {@link AnswerRecord}. */
export type AnswerError = z.infer<typeof AnswerErrorSchema>;

/** The dedupe key of a record: `(promptId, repeat)`. */
export function answerKey(promptId: string, repeat: number): string {
  return `${promptId}\u0000${repeat}`;
}

/** Raised when a journal line other than a torn last line is not a valid record. */
export class JournalFormatError extends Error {
  constructor(readonly path: string, readonly line: number, detail: string) {
    super(`${path}: line ${line} is not a valid answer record: ${detail}`);
    this.name = "JournalFormatError";
  }
}

/** What {@link loadJournal} found in a journal file. */
export interface JournalContents {
  /** Every valid line in file order (may hold several lines per key). */
  lines: AnswerRecord[];
  /** One record per `(promptId, repeat)`, in order of first appearance. */
  records: AnswerRecord[];
  /** 1 when the last line was torn by a crash (and skipped), else 0. */
  tornLines: number;
}

function parseLine(path: string, lineNo: number, text: string): AnswerRecord {
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
 * Keeps one record per `(promptId, repeat)`: the last successful one if any, else the last
 * failure. Output order is the order in which keys first appear.
 */
export function dedupeRecords(lines: readonly AnswerRecord[]): AnswerRecord[] {
  const byKey = new Map<string, AnswerRecord>();
  for (const rec of lines) {
    const key = answerKey(rec.promptId, rec.repeat);
    const prev = byKey.get(key);
    if (!prev || rec.error === null || prev.error !== null) byKey.set(key, rec);
  }
  return [...byKey.values()];
}

/**
 * Reads a journal: every valid line plus the deduplicated records. A missing file is an empty
 * journal; a torn (unparsable) last line is skipped and counted; any other bad line throws
 * {@link JournalFormatError} naming the file and line.
 */
export async function loadJournal(path: string): Promise<JournalContents> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { lines: [], records: [], tornLines: 0 };
    throw e;
  }
  const rawLines = text.split("\n");
  const endsClean = text.length === 0 || text.endsWith("\n");
  if (endsClean) rawLines.pop();
  const lines: AnswerRecord[] = [];
  let tornLines = 0;
  for (let i = 0; i < rawLines.length; i++) {
    const raw = rawLines[i];
    if (raw.trim() === "") continue;
    const isLast = i === rawLines.length - 1;
    try {
      lines.push(parseLine(path, i + 1, raw));
    } catch (e) {
      // A crash can tear only the final write: tolerate it there, nowhere else.
      if (isLast && !endsClean) {
        tornLines++;
        continue;
      }
      throw e;
    }
  }
  return { lines, records: dedupeRecords(lines), tornLines };
}

/** Reads a journal and returns one record per `(promptId, repeat)` (see {@link loadJournal}). */
export async function readJournal(path: string): Promise<AnswerRecord[]> {
  return (await loadJournal(path)).records;
}

/** An open journal: `append` writes one flushed line per record; calls are serialised. */
export interface JournalWriter {
  readonly path: string;
  append(record: AnswerRecord): Promise<void>;
  close(): Promise<void>;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}

/** Length of the file up to and including its last newline (0 when it has none). */
async function lengthToLastNewline(path: string, size: number): Promise<number> {
  const file = await Deno.open(path, { read: true });
  try {
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
  } finally {
    file.close();
  }
}

/**
 * Opens (creating folders and file as needed) a journal for appending. If a crash tore the last
 * line (no final newline), that partial line is cut off first: its answer never finished being
 * recorded, so it counts as in flight and `--resume` asks for it again.
 */
export async function openJournal(path: string): Promise<JournalWriter> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const file = await Deno.open(path, { append: true, create: true });
  const size = (await file.stat()).size;
  if (size > 0) {
    const keep = await lengthToLastNewline(path, size);
    if (keep < size) await file.truncate(keep);
  }
  const encoder = new TextEncoder();
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  return {
    path,
    append(record) {
      if (closed) return Promise.reject(new Error(`journal ${path} is closed`));
      const line = JSON.stringify(AnswerRecordSchema.parse(record)) + "\n";
      const bytes = encoder.encode(line);
      const next = chain.then(async () => {
        await writeAll(file, bytes);
        await file.syncData();
      });
      chain = next.catch(() => {});
      return next;
    },
    async close() {
      if (closed) return;
      closed = true;
      await chain;
      file.close();
    },
  };
}

/** Appends one record to a journal (opens, writes one flushed line, closes). */
export async function appendJournal(path: string, record: AnswerRecord): Promise<void> {
  const writer = await openJournal(path);
  try {
    await writer.append(record);
  } finally {
    await writer.close();
  }
}

/**
 * Rewrites a journal with one line per key (atomic: temp file + rename). Optional: readers dedupe
 * anyway; this just keeps finished journals small and unambiguous.
 */
export async function compactJournal(path: string): Promise<AnswerRecord[]> {
  const { records } = await loadJournal(path);
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeTextFile(tmp, records.map((r) => JSON.stringify(r) + "\n").join(""));
  await Deno.rename(tmp, path);
  return records;
}
