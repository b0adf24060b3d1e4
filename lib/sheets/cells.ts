/**
 * Cells that are safe to open: text a spreadsheet could run as a formula is neutralised, and an
 * XLSX cell never exceeds Excel's limit. Used by every CSV and XLSX a run writes from model output
 * or user input (the answer sheet, `scores.csv`).
 *
 * Formula injection (OWASP "CSV Injection"): text starting with `=`, `+`, `-`, `@`, tab or carriage
 * return, or their full-width forms `＝＋－＠`, gets a leading `'`. The journal keeps the raw text.
 *
 * @module
 */

const FORMULA_TRIGGER = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/** Excel's limit on the characters of one cell. */
export const XLSX_CELL_LIMIT = 32_767;

/**
 * Neutralises text a spreadsheet could evaluate: prefixes `'` when it starts with `=`, `+`, `-`,
 * `@`, tab, CR or a full-width `＝＋－＠`. Other text is returned unchanged.
 */
export function neutralizeCell(text: string): string {
  return FORMULA_TRIGGER.test(text) ? `'${text}` : text;
}

/**
 * A CSV cell that is safe to open and reads back exactly: text starting with a formula trigger or
 * with `'` gets a leading `'` (so {@link readCsvCell} can always strip one).
 */
export function csvCell(text: string): string {
  return FORMULA_TRIGGER.test(text) || text.startsWith("'") ? `'${text}` : text;
}

/** The text a {@link csvCell} was made from. */
export function readCsvCell(cell: string): string {
  return cell.startsWith("'") ? cell.slice(1) : cell;
}

/**
 * Fits text into one XLSX cell: neutralised, then cut to {@link XLSX_CELL_LIMIT} characters with
 * a marker saying how long the full text is and where it stays.
 */
export function xlsxCell(text: string, fullTextIn = "the journal"): string {
  const safe = neutralizeCell(text);
  if (safe.length <= XLSX_CELL_LIMIT) return safe;
  const marker = ` … [truncated: ${text.length.toLocaleString("en-US")} characters; ` +
    `the full text is in ${fullTextIn}]`;
  let cut = XLSX_CELL_LIMIT - marker.length;
  // Never split a surrogate pair.
  const code = safe.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return safe.slice(0, cut) + marker;
}
