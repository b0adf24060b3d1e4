/**
 * Files of the dataset stage: the tuning CSV CLOVA Studio accepts (writer and reader), the
 * evaluation XLSX in the cookbook's `system`/`user` shape plus our metadata columns (writer), and
 * a validating reader for any prompt spreadsheet (XLSX or CSV) whose errors name the file, sheet,
 * row and column.
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
import type ExcelJS from "exceljs";
import { Buffer } from "node:buffer";
import { z } from "zod";
import type { DatasetRow } from "./dataset.ts";
import type { Prompt } from "./runSchema.ts";
import { writeFileAtomic } from "./atomicFile.ts";
import { loadExcel } from "./excel.ts";

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
 * The file appears whole or not at all (`lib/atomicFile.ts`).
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
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new SheetError({ file: path }, "not UTF-8 text");
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
      country_count: p.countryCount,
      continent_count: p.continentCount,
      countries: p.countries.join(", "),
    });
  }
  ws.getRow(1).font = { bold: true };
  const buf = await wb.xlsx.writeBuffer();
  return normalizeZipTimes(new Uint8Array(buf as ArrayBuffer));
}

/**
 * Writes the evaluation spreadsheet (byte-identical for identical prompts), whole or not at all
 * (`lib/atomicFile.ts`).
 */
export async function writeEvalXlsx(path: string, prompts: readonly Prompt[]): Promise<void> {
  await writeFileAtomic(path, await evalXlsxBytes(prompts));
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
// Prompt sheets (XLSX or CSV)

/** Options for {@link readPromptSheet}. */
export interface ReadPromptSheetOptions {
  /** Worksheet name (XLSX); default the first sheet. */
  sheet?: string;
}

const optionalCount = z.string().trim().refine(
  (s) => s === "" || /^[1-9]\d*$/.test(s),
  { message: "expected a positive whole number" },
).transform((s) => (s === "" ? undefined : Number(s)));

const promptRowSchema = z.object({
  system: z.string(),
  user: z.string().refine((s) => s.trim() !== "", { message: "the prompt is empty" }),
  prompt_id: z.string().trim(),
  country_count: optionalCount,
  continent_count: optionalCount,
  countries: z.string(),
});

/** A sheet as plain strings, with where each column sits. */
interface Grid {
  sheet?: string;
  /** Row number and cell strings (by 0-based column) for every row. */
  rows: { row: number; cells: string[] }[];
  /** Column label for messages, by 0-based index (e.g. `B` for XLSX, `2` for CSV). */
  columnLabel: (index: number) => string;
}

function columnLetter(index: number): string {
  let n = index + 1;
  let s = "";
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

/** A cell's value as text (rich text joined, formulas by their cached result). */
function cellString(value: ExcelJS.CellValue, where: () => SheetError): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") {
    if ("richText" in value) return value.richText.map((t) => t.text).join("");
    if ("error" in value) throw where();
    if ("formula" in value || "sharedFormula" in value) {
      const result = (value as { result?: ExcelJS.CellValue }).result;
      if (result !== null && typeof result === "object" && "error" in result) throw where();
      return cellString(result ?? "", where);
    }
    if ("text" in value) return cellString((value as { text: ExcelJS.CellValue }).text, where);
  }
  return String(value);
}

async function xlsxGrid(path: string, bytes: Uint8Array, sheetName?: string): Promise<Grid> {
  const isZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b &&
    bytes[2] === 0x03 && bytes[3] === 0x04;
  if (!isZip) {
    throw new SheetError(
      { file: path },
      "not an XLSX workbook (no ZIP signature; is it a CSV or an old .xls saved under .xlsx?)",
    );
  }
  const { Workbook } = await loadExcel();
  const wb = new Workbook();
  try {
    await wb.xlsx.load(Buffer.from(bytes) as never);
  } catch (e) {
    throw new SheetError({ file: path }, `cannot read the workbook: ${(e as Error).message}`);
  }
  if (wb.worksheets.length === 0) {
    throw new SheetError({ file: path }, "the workbook has no sheets");
  }
  const ws = sheetName === undefined ? wb.worksheets[0] : wb.getWorksheet(sheetName);
  if (!ws) {
    throw new SheetError(
      { file: path, sheet: sheetName },
      `no such sheet; the workbook has ${wb.worksheets.map((w) => `"${w.name}"`).join(", ")}`,
    );
  }
  const rows: Grid["rows"] = [];
  ws.eachRow({ includeEmpty: false }, (r, rowNumber) => {
    const cells: string[] = [];
    const count = r.cellCount;
    for (let c = 1; c <= count; c++) {
      cells.push(cellString(r.getCell(c).value, () =>
        new SheetError(
          { file: path, sheet: ws.name, row: rowNumber, column: columnLetter(c - 1) },
          "the cell holds an error value",
        )));
    }
    rows.push({ row: rowNumber, cells });
  });
  return { sheet: ws.name, rows, columnLabel: columnLetter };
}

function csvGrid(path: string, text: string): Grid {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let records: string[][];
  try {
    records = parse(body, { relax_column_count: true, skip_empty_lines: false }) as string[][];
  } catch (e) {
    throw csvError(path, e);
  }
  return {
    rows: records.map((cells, i) => ({ row: i + 1, cells })),
    columnLabel: (i) => String(i + 1),
  };
}

/**
 * Reads a prompt spreadsheet: the cookbook's `system` and `user` columns (both required, header
 * names case-insensitive; `system` may be empty in a row, `user` may not), plus our optional
 * metadata (`prompt_id`, `country_count`, `continent_count`, `countries`). XLSX by default, CSV
 * when the name ends in `.csv`. Blank rows are skipped. Every problem — unreadable or non-XLSX
 * file, empty file, workbook or sheet, a missing column, an empty prompt, a malformed number, a
 * repeated prompt id — is a {@link SheetError} naming the file, sheet, row and column.
 * Each row becomes a {@link Prompt}: the id is `prompt_id` (or `r<row>`), the countries are
 * `countries` split on commas (none when absent), the counts are the sheet's (else the number of
 * countries, and 0 continents).
 */
export async function readPromptSheet(
  path: string,
  opts: ReadPromptSheetOptions = {},
): Promise<Prompt[]> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new SheetError({ file: path }, `cannot read the file: ${(e as Error).message}`);
  }
  if (bytes.length === 0) throw new SheetError({ file: path }, "the file is empty");
  const grid = /\.csv$/i.test(path)
    ? csvGrid(path, await readText(path))
    : await xlsxGrid(path, bytes, opts.sheet);
  const sheet = grid.sheet;
  const at = (row?: number, column?: string) => ({ file: path, sheet, row, column });
  const nonBlank = grid.rows.filter((r) => r.cells.some((c) => c.trim() !== ""));
  if (nonBlank.length === 0) throw new SheetError(at(), "the sheet is empty (no header row)");
  const [header, ...body] = nonBlank;
  const index = new Map<string, number>();
  header.cells.forEach((name, i) => {
    const key = name.trim().toLowerCase();
    if (key === "") return;
    if (index.has(key)) {
      throw new SheetError(
        at(header.row, `${grid.columnLabel(i)} (${key})`),
        `column "${key}" appears twice`,
      );
    }
    index.set(key, i);
  });
  for (const required of ["system", "user"]) {
    if (!index.has(required)) {
      throw new SheetError(
        at(header.row, required),
        `no "${required}" column in the header (found: ${
          header.cells.filter((c) => c.trim()).map((c) => JSON.stringify(c.trim())).join(", ")
        })`,
      );
    }
  }
  if (body.length === 0) throw new SheetError(at(), "the sheet has a header but no prompt rows");
  const label = (name: string) => {
    const i = index.get(name);
    return i === undefined ? name : `${grid.columnLabel(i)} (${name})`;
  };
  const seenIds = new Map<string, number>();
  return body.map(({ row, cells }) => {
    const get = (name: string) => {
      const i = index.get(name);
      return i === undefined ? "" : (cells[i] ?? "");
    };
    const parsed = promptRowSchema.safeParse({
      system: get("system"),
      user: get("user"),
      prompt_id: get("prompt_id"),
      country_count: get("country_count"),
      continent_count: get("continent_count"),
      countries: get("countries"),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const column = String(issue.path[0] ?? "");
      const value = get(column);
      throw new SheetError(
        at(row, label(column)),
        `${issue.message}${value.trim() === "" ? "" : ` (got ${JSON.stringify(value)})`}`,
      );
    }
    const v = parsed.data;
    const promptId = v.prompt_id === "" ? `r${row}` : v.prompt_id;
    const earlier = seenIds.get(promptId);
    if (earlier !== undefined) {
      throw new SheetError(
        at(row, label("prompt_id")),
        `prompt id ${JSON.stringify(promptId)} repeats row ${earlier}`,
      );
    }
    seenIds.set(promptId, row);
    const countries = v.countries.split(",").map((s) => s.trim()).filter((s) => s !== "");
    return {
      id: promptId,
      system: v.system,
      user: v.user,
      countries,
      countryCount: v.country_count ?? countries.length,
      continentCount: v.continent_count ?? 0,
    };
  });
}
