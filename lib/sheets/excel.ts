/**
 * exceljs, loaded on first use. Loading it takes longer than the rest of a command's start-up, so
 * the modules that write or read workbooks call {@link loadExcel} where they need it and import
 * only its types; a command that never touches a workbook (`--help`, the CSV path of `dataset`)
 * never loads it.
 *
 * @module
 */
import type ExcelJS from "exceljs";

/** The exceljs module (the default export that `import ExcelJS from "exceljs"` gives). */
export type ExcelModule = typeof ExcelJS;

/** Loads exceljs (once; later calls get the same module). */
export async function loadExcel(): Promise<ExcelModule> {
  return (await import("exceljs")).default;
}
