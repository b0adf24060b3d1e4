/**
 * The tuning CSV reader (the `Text,Completion` and single-turn layouts CLOVA Studio takes) and
 * {@link SheetError}, the located error of every sheet reader.
 *
 * @module
 */
import { CsvError, parse } from "csv-parse/sync";
import { decodeText, TextEncodingError } from "./textEncoding.ts";
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
