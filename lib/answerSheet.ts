/**
 * The result spreadsheet, shaped like the cookbook's output (`system`, `user`, `role`, `content`)
 * plus latency, token usage, error and prompt-metadata columns.
 *
 * Formula/CSV injection: every text cell is stored as an explicit string cell (exceljs never
 * writes a `<f>` formula element for a plain string), and text that a spreadsheet could read as a
 * formula when the cell is edited, copied or exported to CSV — starting with `=`, `+`, `-`, `@`,
 * tab or carriage return (OWASP "CSV Injection"), or their full-width forms `＝＋－＠` — gets a
 * leading `'`. The journal keeps the raw, unaltered answer text; scoring reads the journal.
 *
 * @module
 */
import { dirname } from "node:path";
import { loadExcel } from "./excel.ts";
import type { AnswerRecord } from "./journal.ts";

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
  "country_count",
  "continent_count",
  "countries",
  "attempts",
  "label",
  "model",
  "answered_at",
] as const;

const FORMULA_TRIGGER = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * Neutralises text a spreadsheet could evaluate: prefixes `'` when it starts with `=`, `+`, `-`,
 * `@`, tab, CR or a full-width `＝＋－＠`. Other text is returned unchanged.
 */
export function neutralizeCell(text: string): string {
  return FORMULA_TRIGGER.test(text) ? `'${text}` : text;
}

function errorText(rec: AnswerRecord): string | null {
  if (!rec.error) return null;
  const status = rec.error.httpStatus !== undefined ? ` (HTTP ${rec.error.httpStatus})` : "";
  return `${rec.error.code}${status}: ${rec.error.message}`;
}

/** One result-sheet row as plain values (text not yet neutralised). */
export function answerSheetRow(rec: AnswerRecord): (string | number | null)[] {
  return [
    rec.system,
    rec.user,
    rec.error ? null : "assistant",
    rec.text,
    Math.round(rec.latencyMs),
    rec.inputTokens ?? null,
    rec.outputTokens ?? null,
    rec.finishReason ?? null,
    rec.requestId ?? null,
    errorText(rec),
    rec.promptId,
    rec.repeat,
    rec.countryCount,
    rec.continentCount,
    rec.countries.join(", "),
    rec.attempts,
    rec.label,
    rec.model,
    rec.answeredAt,
  ];
}

/**
 * Writes the result spreadsheet (one row per record, in the given order) atomically: a temp file
 * in the same folder, then a rename.
 */
export async function writeAnswerSheet(
  path: string,
  records: readonly AnswerRecord[],
  opts: { sheetName?: string } = {},
): Promise<void> {
  const { Workbook } = await loadExcel();
  const workbook = new Workbook();
  const sheet = workbook.addWorksheet(opts.sheetName ?? "answers");
  sheet.addRow([...ANSWER_SHEET_COLUMNS]);
  sheet.getRow(1).font = { bold: true };
  for (const rec of records) {
    const values = answerSheetRow(rec).map((v) => typeof v === "string" ? neutralizeCell(v) : v);
    // A JS string becomes a shared-string cell (`t="s"`); exceljs writes a formula only for
    // `{ formula }` values, so no cell here can hold one.
    sheet.addRow(values);
  }
  sheet.columns.forEach((col, i) => {
    const name = ANSWER_SHEET_COLUMNS[i];
    col.width = name === "user" || name === "content" ? 60 : name === "system" ? 30 : 14;
  });
  sheet.views = [{ state: "frozen", ySplit: 1 }];
  await Deno.mkdir(dirname(path), { recursive: true });
  const buffer = await workbook.xlsx.writeBuffer();
  const tmp = `${path}.tmp-${crypto.randomUUID()}.xlsx`;
  await Deno.writeFile(tmp, new Uint8Array(buffer as ArrayBuffer));
  await Deno.rename(tmp, path);
}
