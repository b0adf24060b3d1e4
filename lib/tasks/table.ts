/**
 * A small sheet read whole into rows of strings: a CSV (UTF-8, with or without BOM) or the first
 * worksheet of an Excel workbook. What the taxonomy reader and the bring-your-own evaluation
 * reader share; every problem is a one-line {@link TaskError} naming the file.
 *
 * @module
 */
import { parse } from "csv-parse/sync";
import { basename, extname } from "node:path";
import type ExcelJS from "exceljs";
import { loadExcel } from "../sheets/mod.ts";
import { SheetError } from "../sheets/mod.ts";
import { TaskError } from "../run/mod.ts";

/** The rows of a CSV text as strings (a leading BOM is dropped). */
export function csvTable(text: string, file: string): string[][] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return parse(body, { relax_column_count: true, skip_empty_lines: true, trim: false });
  } catch (e) {
    throw new TaskError(`${basename(file)}: malformed CSV: ${(e as Error).message}`);
  }
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

/** The rows of a workbook's first worksheet as strings (row `n` of the sheet at index `n - 1`). */
async function xlsxTable(path: string): Promise<string[][]> {
  const { Workbook } = await loadExcel();
  const wb = new Workbook();
  try {
    await wb.xlsx.readFile(path);
  } catch (e) {
    throw new TaskError(
      `${basename(path)}: not a readable .xlsx workbook: ${(e as Error).message}`,
    );
  }
  const ws = wb.worksheets[0];
  if (!ws) throw new TaskError(`${basename(path)}: the workbook has no worksheet`);
  const table: string[][] = [];
  ws.eachRow({ includeEmpty: true }, (row, rowNumber) => {
    const values: string[] = [];
    for (let c = 1; c <= row.cellCount; c++) {
      values.push(
        cellString(
          row.getCell(c).value,
          () =>
            new SheetError(
              { file: basename(path), sheet: ws.name, row: rowNumber },
              "a cell holds an error value",
            ),
        ),
      );
    }
    while (table.length < rowNumber - 1) table.push([""]);
    table.push(values.length ? values : [""]);
  });
  return table;
}

/**
 * Reads a `.csv` or `.xlsx` file whole into rows of strings; `what` names the file's role in the
 * message for any other extension.
 */
export async function readTable(path: string, what: string): Promise<string[][]> {
  const ext = extname(path).toLowerCase();
  try {
    if (ext === ".xlsx") return await xlsxTable(path);
    if (ext === ".csv") return csvTable(await Deno.readTextFile(path), path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new TaskError(`${path}: no such file`);
    if (e instanceof SheetError) throw new TaskError(e.message);
    throw e;
  }
  throw new TaskError(`${basename(path)}: ${what} is a .csv or .xlsx file`);
}
