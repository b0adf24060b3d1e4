/**
 * The result spreadsheet of one answer label (`answers/<label>.xlsx`), the user's deliverable,
 * generated from the journal: shaped like the cookbook's output (`system`, `user`, `role`,
 * `content`) plus latency, token usage, error and prompt-metadata columns, one row per answer in
 * sheet order.
 *
 * It is written with exceljs's streaming writer (rows go to disk as they come, inline strings),
 * so a million answers take the memory of a few, and atomically (temp file, then rename). Every
 * text cell is a plain string cell (exceljs writes a formula only for `{ formula }` values),
 * neutralised against formula injection and cut to Excel's 32,767 characters with a marker (see
 * `lib/sheets/cells.ts`); the journal keeps the raw, full answer.
 *
 * @module
 */
import { writeAtomic } from "../io/mod.ts";
import { loadExcel, xlsxCell } from "../sheets/mod.ts";
import type { AnswerRecord } from "../run/mod.ts";
import { Writable } from "node:stream";

/** Result-sheet column headers, in order. */
export const ANSWER_SHEET_COLUMNS = [
  "system",
  "user",
  "role",
  "content",
  "latency_ms",
  "input_tokens",
  "output_tokens",
  "finish_reason",
  "request_id",
  "error",
  "prompt_id",
  "repeat",
  "seed",
  "country_count",
  "continent_count",
  "countries",
  "attempts",
  "label",
  "model",
  "answered_at",
] as const;

const WIDTHS: Partial<Record<(typeof ANSWER_SHEET_COLUMNS)[number], number>> = {
  system: 30,
  user: 60,
  content: 60,
};

function errorText(rec: AnswerRecord): string | null {
  if (!rec.error) return null;
  const status = rec.error.httpStatus !== undefined ? ` (HTTP ${rec.error.httpStatus})` : "";
  return `${rec.error.code}${status}: ${rec.error.message}`;
}

/** One result-sheet row as plain values (text not yet made safe). */
export function answerSheetRow(rec: AnswerRecord): (string | number | null)[] {
  return [
    rec.prompt.system,
    rec.prompt.user,
    rec.error ? null : "assistant",
    rec.text,
    Math.round(rec.latencyMs),
    rec.usage.inputTokens ?? null,
    rec.usage.outputTokens ?? null,
    rec.finishReason ?? null,
    rec.requestId ?? null,
    errorText(rec),
    rec.prompt.id,
    rec.repeat,
    rec.params.seed ?? null,
    rec.prompt.countryCount,
    rec.prompt.continentCount,
    rec.prompt.countries.join(", "),
    rec.attempts,
    rec.label,
    rec.model,
    rec.answeredAt,
  ];
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await file.write(bytes.subarray(at));
}

/**
 * Writes the result spreadsheet (one row per record, in the given order) from a stream of
 * records, atomically. Returns the number of rows written.
 */
export async function writeAnswerSheet(
  path: string,
  records: AsyncIterable<AnswerRecord> | Iterable<AnswerRecord>,
  opts: { sheetName?: string; journal?: string } = {},
): Promise<number> {
  let rows = 0;
  const ExcelJS = await loadExcel();
  await writeAtomic(path, async (tmp) => {
    // exceljs's own file stream drops a write error (a full disk) and its commit then waits
    // forever; this stream hands the first error to the loop below and to the commit.
    const file = await Deno.open(tmp, { write: true, createNew: true });
    let failure: { error: unknown } | undefined;
    let fail!: (e: unknown) => void;
    const failed = new Promise<never>((_, reject) => fail = reject);
    failed.catch(() => {});
    const out = new Writable({
      write(chunk: Uint8Array, _encoding, done) {
        writeAll(file, chunk).then(() => done(), (e) => {
          failure ??= { error: e };
          fail(e);
          done(e);
        });
      },
    });
    out.on("error", () => {});
    try {
      const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
        stream: out,
        useSharedStrings: false,
        // No styles (they cost half the time and a third of the memory of a large sheet) and
        // the fastest deflate level: the file is a deliverable to open, not an archive.
        useStyles: false,
        zip: { zlib: { level: 1 } },
      });
      const sheet = workbook.addWorksheet(opts.sheetName ?? "answers", {
        views: [{ state: "frozen", ySplit: 1 }],
      });
      sheet.columns = ANSWER_SHEET_COLUMNS.map((name) => ({
        key: name,
        width: WIDTHS[name] ?? 14,
      }));
      sheet.addRow([...ANSWER_SHEET_COLUMNS]).commit();
      const where = opts.journal ?? "the journal";
      for await (const rec of records) {
        sheet.addRow(
          answerSheetRow(rec).map((v) => (typeof v === "string" ? xlsxCell(v, where) : v)),
        ).commit();
        // exceljs buffers committed rows until its zip stream takes them; give it the event
        // loop now and then so that buffer stays small.
        if (++rows % 200 === 0) await new Promise((r) => setTimeout(r, 0));
        if (failure) throw failure.error;
      }
      sheet.commit();
      await Promise.race([workbook.commit(), failed]);
    } finally {
      file.close();
    }
  });
  return rows;
}
