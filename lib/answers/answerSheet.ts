/**
 * The result spreadsheet of one answer label (`answers/<label>.xlsx`), the user's deliverable,
 * generated from the journal: shaped like the cookbook's output (`system`, `user`, `role`,
 * `content`) plus latency, token usage, error and prompt-metadata columns, one row per answer in
 * sheet order.
 *
 * It is written as a stream (`lib/sheets/xlsxWriter.ts`: rows go to disk as they come, inline
 * strings), so a million answers take the memory of a few, and atomically (temp file, then
 * rename). Every text cell is a plain inline string (never a formula), neutralised against formula
 * injection and cut to Excel's 32,767 characters with a marker (see
 * `lib/sheets/cells.ts`); the journal keeps the raw, full answer.
 *
 * @module
 */
import { writeAtomic } from "../io/mod.ts";
import { writeXlsxSheet, xlsxCell } from "../sheets/mod.ts";
import type { AnswerRecord } from "../run/mod.ts";

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

/**
 * Writes the result spreadsheet (one row per record, in the given order) from a stream of
 * records, atomically. Returns the number of rows written.
 */
export async function writeAnswerSheet(
  path: string,
  records: AsyncIterable<AnswerRecord> | Iterable<AnswerRecord>,
  opts: { sheetName?: string; journal?: string } = {},
): Promise<number> {
  const where = opts.journal ?? "the journal";
  async function* rows() {
    for await (const rec of records) {
      yield answerSheetRow(rec).map((v) => (typeof v === "string" ? xlsxCell(v, where) : v));
    }
  }
  let written = 0;
  await writeAtomic(path, async (tmp) => {
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      written = await writeXlsxSheet(file, {
        sheetName: opts.sheetName ?? "answers",
        columns: ANSWER_SHEET_COLUMNS.map((header) => ({ header, width: WIDTHS[header] })),
      }, rows());
    } finally {
      file.close();
    }
  });
  return written;
}
