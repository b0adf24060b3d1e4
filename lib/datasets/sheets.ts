/**
 * Files of the dataset stage: the tuning CSV CLOVA Studio accepts (writer and reader), the
 * evaluation XLSX in the cookbook's `system`/`user` shape plus our metadata columns (writer); the
 * validating, streaming reader for any prompt spreadsheet (XLSX or CSV) is `lib/answers/promptSheet.ts`.
 *
 * Tuning CSV: UTF-8 with a byte-order mark (CLOVA Studio's failure table requires "UTF8-sig"),
 * CRLF record ends (what Python's `csv.writer`, the cookbook's writer, produces by default), fields
 * quoted only when they hold a comma, a quote, CR or LF (Python's `QUOTE_MINIMAL`); newlines inside
 * a field stay LF. `text-completion` is the cookbook's `Text,Completion`; `single-turn` is the
 * current API's `C_ID,T_ID,Text,Completion` with one conversation per row.
 *
 * @module
 */
import { stringify } from "csv-stringify/sync";
import type { DatasetRow } from "./generator.ts";
import type { Prompt } from "../run/mod.ts";
import { writeFileAtomic } from "../io/mod.ts";
import { loadExcel, type TuningCsvFormat, type TuningCsvOptions } from "../sheets/mod.ts";
export {
  parseTuningCsv,
  readTuningCsv,
  SheetError,
  type TuningCsv,
  type TuningCsvFormat,
  type TuningCsvOptions,
  type TuningCsvRow,
} from "../sheets/mod.ts";

// ---------------------------------------------------------------------------------------------
// Tuning CSV

const TEXT_COMPLETION_HEADER = ["Text", "Completion"];
const SINGLE_TURN_HEADER = ["C_ID", "T_ID", "Text", "Completion"];

const CSV_OPTIONS = { record_delimiter: "windows", quoted_match: /[\r\n]/ } as const;

function csvRecords(
  rows: readonly Pick<DatasetRow, "text" | "completion">[],
  format: TuningCsvFormat,
  from: number,
  to: number,
): (string | number)[][] {
  const records: (string | number)[][] = [];
  if (from === 0) {
    records.push(format === "single-turn" ? SINGLE_TURN_HEADER : TEXT_COMPLETION_HEADER);
  }
  for (let i = from; i < to; i++) {
    const r = rows[i];
    records.push(format === "single-turn" ? [i, 0, r.text, r.completion] : [r.text, r.completion]);
  }
  return records;
}

/** The tuning CSV as a string (BOM, CRLF, minimal quoting). */
export function tuningCsv(
  rows: readonly Pick<DatasetRow, "text" | "completion">[],
  opts: TuningCsvOptions = {},
): string {
  const records = csvRecords(rows, opts.format ?? "text-completion", 0, rows.length);
  return stringify(records, { ...CSV_OPTIONS, bom: true });
}

/** Rows per csv-stringify call when writing: keeps strings and buffers small for big sets. */
const WRITE_CHUNK = 1000;

/**
 * Writes the tuning CSV CLOVA Studio accepts (see the module notes for the exact format), in
 * chunks of {@link WRITE_CHUNK} rows; the bytes equal `tuningCsv(rows, opts)` encoded as UTF-8.
 * The file appears whole or not at all (`lib/io/atomicFile.ts`).
 */
export async function writeTuningCsv(
  path: string,
  rows: readonly Pick<DatasetRow, "text" | "completion">[],
  opts: TuningCsvOptions = {},
): Promise<void> {
  const format = opts.format ?? "text-completion";
  function* chunks() {
    for (let from = 0; from === 0 || from < rows.length; from += WRITE_CHUNK) {
      const to = Math.min(rows.length, from + WRITE_CHUNK);
      yield stringify(csvRecords(rows, format, from, to), { ...CSV_OPTIONS, bom: from === 0 });
    }
  }
  await writeFileAtomic(path, ReadableStream.from(chunks()).pipeThrough(new TextEncoderStream()));
}

// ---------------------------------------------------------------------------------------------
// Evaluation XLSX

/** Columns of the evaluation spreadsheet, in order. */
export const EVAL_COLUMNS = [
  "system",
  "user",
  "prompt_id",
  "country_count",
  "continent_count",
  "countries",
] as const;

/** A fixed timestamp for workbook properties and ZIP entries, so files are byte-identical. */
const FIXED_DATE = new Date(Date.UTC(2024, 5, 9, 0, 0, 0));

/** The evaluation workbook as bytes (sheet `eval`, columns {@link EVAL_COLUMNS}). */
export async function evalXlsxBytes(prompts: readonly Prompt[]): Promise<Uint8Array> {
  const { Workbook } = await loadExcel();
  const wb = new Workbook();
  wb.creator = "clova-country-tuning";
  wb.lastModifiedBy = "clova-country-tuning";
  wb.created = FIXED_DATE;
  wb.modified = FIXED_DATE;
  const ws = wb.addWorksheet("eval");
  ws.columns = [
    { header: "system", key: "system", width: 20 },
    { header: "user", key: "user", width: 80 },
    { header: "prompt_id", key: "prompt_id", width: 10 },
    { header: "country_count", key: "country_count", width: 14 },
    { header: "continent_count", key: "continent_count", width: 16 },
    { header: "countries", key: "countries", width: 80 },
  ];
  for (const p of prompts) {
    ws.addRow({
      system: p.system,
      user: p.user,
      prompt_id: p.id,
      // 0 (a prompt you bring, which names no items) is left empty, as the reader reads it.
      country_count: p.countryCount || null,
      continent_count: p.continentCount || null,
      countries: p.countries.join(", "),
    });
  }
  ws.getRow(1).font = { bold: true };
  const buf = await wb.xlsx.writeBuffer();
  return normalizeZipTimes(new Uint8Array(buf as ArrayBuffer));
}

/**
 * Writes the evaluation spreadsheet (byte-identical for identical prompts), whole or not at all
 * (`lib/io/atomicFile.ts`).
 */
export async function writeEvalXlsx(path: string, prompts: readonly Prompt[]): Promise<void> {
  await writeFileAtomic(path, await evalXlsxBytes(prompts));
}

/**
 * The evaluation set as CSV text: the columns of {@link EVAL_COLUMNS}, UTF-8 with BOM and CRLF
 * like the tuning CSVs (what `openPromptSheet` reads back as the same prompts).
 */
export function evalCsv(prompts: readonly Prompt[]): string {
  const records = [
    [...EVAL_COLUMNS],
    ...prompts.map((p) => [
      p.system,
      p.user,
      p.id,
      String(p.countryCount),
      String(p.continentCount),
      p.countries.join(", "),
    ]),
  ];
  return stringify(records, { ...CSV_OPTIONS, bom: true });
}

/**
 * Writes the evaluation set as the kind of sheet its name ends in, `.xlsx` or `.csv`, whole or
 * not at all; any other name is refused before anything is written.
 */
export async function writeEvalSheet(path: string, prompts: readonly Prompt[]): Promise<void> {
  if (/\.xlsx$/i.test(path)) return await writeEvalXlsx(path, prompts);
  if (/\.csv$/i.test(path)) return await writeFileAtomic(path, evalCsv(prompts));
  throw new Error(`${path}: an evaluation set is written as .xlsx or .csv`);
}

/**
 * Sets every ZIP entry's DOS modification time to 2024-06-09 00:00 (JSZip stamps the current
 * time, which would make two otherwise identical workbooks differ).
 */
function normalizeZipTimes(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dosTime = 0;
  const dosDate = ((2024 - 1980) << 9) | (6 << 5) | 9;
  for (let i = 0; i + 4 <= bytes.length; i++) {
    const sig = view.getUint32(i, true);
    if (sig === 0x04034b50 && i + 30 <= bytes.length) {
      view.setUint16(i + 10, dosTime, true);
      view.setUint16(i + 12, dosDate, true);
      const nameLen = view.getUint16(i + 26, true);
      const extraLen = view.getUint16(i + 28, true);
      const size = view.getUint32(i + 18, true);
      i += 29 + nameLen + extraLen + size;
    } else if (sig === 0x02014b50 && i + 46 <= bytes.length) {
      view.setUint16(i + 12, dosTime, true);
      view.setUint16(i + 14, dosDate, true);
      const nameLen = view.getUint16(i + 28, true);
      const extraLen = view.getUint16(i + 30, true);
      const commentLen = view.getUint16(i + 32, true);
      i += 45 + nameLen + extraLen + commentLen;
    } else if (sig === 0x06054b50) {
      break;
    }
  }
  return bytes;
}
