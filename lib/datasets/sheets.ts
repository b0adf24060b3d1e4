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
import { CsvError, parse } from "csv-parse/sync";
import type { DatasetRow } from "./generator.ts";
import type { Prompt } from "../run/schema.ts";
import { writeFileAtomic } from "../io/atomicFile.ts";
import { decodeText, TextEncodingError } from "../io/textEncoding.ts";
import { loadExcel } from "../io/excel.ts";

/** Column layout of a tuning CSV. */
export type TuningCsvFormat = "text-completion" | "single-turn";

/** Options for the tuning CSV writer. */
export interface TuningCsvOptions {
  /** `text-completion` (default, `Text,Completion`) or `single-turn` (`C_ID,T_ID,Text,Completion`). */
  format?: TuningCsvFormat;
}

/** A clear, located problem with a prompt sheet or tuning CSV. */
export class SheetError extends Error {
  /** The file that was read. */
  readonly file: string;
  /** The worksheet (XLSX) when known. */
  readonly sheet?: string;
  /** 1-based row (spreadsheet row; for CSV the record number, header = 1). */
  readonly row?: number;
  /** Column name (and letter for XLSX), e.g. `B (user)`. */
  readonly column?: string;
  /** What is wrong, without the location. */
  readonly reason: string;

  constructor(
    where: { file: string; sheet?: string; row?: number; column?: string },
    reason: string,
  ) {
    // One line: control characters a parser quotes from the file (a CR, a newline) are escaped.
    reason = reason.replace(
      // deno-lint-ignore no-control-regex
      /[\u0000-\u001f\u007f]/g,
      (c) =>
        c === "\n"
          ? "\\n"
          : c === "\r"
          ? "\\r"
          : c === "\t"
          ? "\\t"
          : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
    const parts = [where.file];
    if (where.sheet !== undefined) parts.push(`sheet "${where.sheet}"`);
    if (where.row !== undefined) parts.push(`row ${where.row}`);
    if (where.column !== undefined) parts.push(`column ${where.column}`);
    super(`${parts.join(", ")}: ${reason}`);
    this.name = "SheetError";
    this.file = where.file;
    this.sheet = where.sheet;
    this.row = where.row;
    this.column = where.column;
    this.reason = reason;
  }
}

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

/** One data row of a tuning CSV. */
export interface TuningCsvRow {
  /** Record number (header = 1). */
  row: number;
  /** `C_ID` / `T_ID` in the single-turn format. */
  cId?: number;
  tId?: number;
  /** `System_Prompt` when the file has one. */
  systemPrompt?: string;
  text: string;
  completion: string;
}

/** A parsed tuning CSV. */
export interface TuningCsv {
  format: TuningCsvFormat;
  /** Whether the file starts with a UTF-8 byte-order mark (CLOVA Studio requires it). */
  bom: boolean;
  /** How the header line ends (`crlf` as Python's csv module writes; `none`: no line end). */
  lineEnding: "crlf" | "lf" | "none";
  rows: TuningCsvRow[];
}

/**
 * Parses tuning CSV text, checking what CLOVA Studio checks: the header (`Text,Completion`, or
 * `[System_Prompt,]C_ID,T_ID,Text,Completion`, names case-insensitive, in that order), no empty
 * `Text`/`Completion`, and `C_ID`/`T_ID` counting 0, 1, 2 … Errors are {@link SheetError}s.
 */
export function parseTuningCsv(content: string, file = "<csv>"): TuningCsv {
  const bom = content.charCodeAt(0) === 0xfeff;
  const body = bom ? content.slice(1) : content;
  if (body.trim() === "") throw new SheetError({ file }, "file is empty");
  let records: string[][];
  try {
    records = parse(body, { relax_column_count: false, skip_empty_lines: true }) as string[][];
  } catch (e) {
    throw csvError(file, e);
  }
  const header = records[0].map((h) => h.trim());
  const lower = header.map((h) => h.toLowerCase());
  const hasSystem = lower[0] === "system_prompt";
  const rest = hasSystem ? lower.slice(1) : lower;
  let format: TuningCsvFormat;
  if (rest.join(",") === "text,completion" && !hasSystem) format = "text-completion";
  else if (rest.join(",") === "c_id,t_id,text,completion") format = "single-turn";
  else {
    throw new SheetError(
      { file, row: 1 },
      `unexpected header ${JSON.stringify(header.join(","))}; expected "Text,Completion" or ` +
        `"[System_Prompt,]C_ID,T_ID,Text,Completion"`,
    );
  }
  const rows: TuningCsvRow[] = [];
  let expectedC = 0;
  let lastC = -1;
  let expectedT = 0;
  for (let i = 1; i < records.length; i++) {
    const rec = records[i];
    const at = (name: string) => ({ file, row: i + 1, column: name });
    const get = (name: string) => rec[lower.indexOf(name.toLowerCase())];
    const text = get("Text");
    const completion = get("Completion");
    if (text.trim() === "") throw new SheetError(at("Text"), "Text is empty");
    if (completion.trim() === "") throw new SheetError(at("Completion"), "Completion is empty");
    const row: TuningCsvRow = { row: i + 1, text, completion };
    if (format === "single-turn") {
      const c = Number(get("C_ID"));
      const t = Number(get("T_ID"));
      if (!/^\d+$/.test(get("C_ID")) || (c !== lastC && c !== expectedC)) {
        throw new SheetError(
          at("C_ID"),
          `C_ID ${JSON.stringify(get("C_ID"))}, expected ${
            lastC < 0 ? 0 : `${lastC} or ${expectedC}`
          }`,
        );
      }
      if (c !== lastC) expectedT = 0;
      if (!/^\d+$/.test(get("T_ID")) || t !== expectedT) {
        throw new SheetError(
          at("T_ID"),
          `T_ID ${JSON.stringify(get("T_ID"))}, expected ${expectedT}`,
        );
      }
      if (c !== lastC) expectedC = c + 1;
      lastC = c;
      expectedT = t + 1;
      row.cId = c;
      row.tId = t;
      if (hasSystem) row.systemPrompt = get("System_Prompt");
    }
    rows.push(row);
  }
  const firstEnd = body.indexOf("\n");
  const lineEnding = firstEnd < 0 ? "none" : body[firstEnd - 1] === "\r" ? "crlf" : "lf";
  return { format, bom, lineEnding, rows };
}

/** Reads and checks a tuning CSV (see {@link parseTuningCsv}). */
export async function readTuningCsv(path: string): Promise<TuningCsv> {
  return parseTuningCsv(await readText(path), path);
}

async function readText(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new SheetError({ file: path }, `cannot read the file: ${(e as Error).message}`);
  }
  try {
    return decodeText(bytes, path);
  } catch (e) {
    if (e instanceof TextEncodingError) throw new SheetError({ file: path }, e.reason);
    throw e;
  }
}

function csvError(file: string, e: unknown): SheetError {
  if (e instanceof CsvError) {
    const lines = (e as unknown as { lines?: number }).lines;
    return new SheetError(
      { file },
      `malformed CSV${lines ? ` near line ${lines}` : ""}: ${e.message}`,
    );
  }
  return new SheetError({ file }, `malformed CSV: ${(e as Error).message}`);
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

// ---------------------------------------------------------------------------------------------
// Prompt sheets (XLSX or CSV): read in `lib/answers/promptSheet.ts`

export {
  openPromptSheet,
  type PromptSheet,
  readPromptSheet,
  type ReadPromptSheetOptions,
} from "../answers/promptSheet.ts";
