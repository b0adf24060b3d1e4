/**
 * Writes one worksheet of an XLSX file from a stream of rows, in memory that does not grow with
 * the sheet: the sheet's XML is made a batch of rows at a time, deflated and added to the ZIP
 * (fflate's streaming `Zip`) as it goes, and written to the file before the next batch is made. Text cells are inline strings (no shared-strings table to hold), numbers are numbers, a
 * `null` is an empty cell; the header row is frozen and the columns have the widths given.
 *
 * The workbook has only the parts a reader needs (content types, the package and workbook
 * relationships, the workbook and the one sheet): no styles, no document properties. Characters
 * XML 1.0 cannot carry (C0 controls other than tab, line feed and carriage return, and DEL) are
 * left out, as exceljs leaves them out; a carriage return is kept (as `&#13;`).
 *
 * exceljs's streaming writer makes an object per row and per cell and spent most of an answer
 * sheet's writing time on them; this writer makes strings. Deflating is zlib's (`node:zlib`,
 * native, about four times fflate's own deflate here): each batch is deflated on its own and ends
 * in a sync flush (the last one in the final block), so the batches joined are one deflate stream.
 *
 * @module
 */
import { Zip, ZipPassThrough } from "fflate";
import { constants, crc32, deflateRawSync } from "node:zlib";

/** One column of a sheet: its header and width (in characters). */
export interface XlsxColumn {
  header: string;
  width?: number;
}

/** One cell's value: text, a number, or empty (`null`). */
export type XlsxValue = string | number | null;

/** Options of {@link writeXlsxSheet}. */
export interface XlsxSheetOptions {
  sheetName: string;
  columns: readonly XlsxColumn[];
  /** Width of a column that gives none (default 14). */
  defaultWidth?: number;
  /** Deflate level, 0–9 (default 1: the file is a deliverable to open, not an archive). */
  level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships";
const DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

const CONTENT_TYPES = XML_HEAD +
  '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
  '<Default Extension="xml" ContentType="application/xml"/>' +
  '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
  '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' +
  "</Types>";

const PACKAGE_RELS = XML_HEAD + `<Relationships xmlns="${REL_NS}">` +
  `<Relationship Id="rId1" Type="${DOC_REL}/officeDocument" Target="xl/workbook.xml"/>` +
  "</Relationships>";

const WORKBOOK_RELS = XML_HEAD + `<Relationships xmlns="${REL_NS}">` +
  `<Relationship Id="rId1" Type="${DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>` +
  "</Relationships>";

/**
 * A ZIP entry deflated by zlib a pushed chunk at a time (see the module's note); its CRC-32 is
 * zlib's too.
 */
class ZlibDeflateEntry extends ZipPassThrough {
  #level: number;

  constructor(filename: string, level: number) {
    super(filename);
    this.#level = level;
    this.compression = 8;
    this.crc = 0;
  }

  override push(chunk: Uint8Array, final = false): void {
    this.crc = crc32(chunk, this.crc);
    this.size += chunk.length;
    this.process(chunk, final);
  }

  override process(chunk: Uint8Array, final: boolean): void {
    const deflated = deflateRawSync(chunk, {
      level: this.#level,
      finishFlush: final ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
    });
    this.ondata(null, deflated, final);
  }
}

/** Rows of sheet XML made before they are deflated and written. */
const ROWS_PER_BATCH = 256;

// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /[&<>"\r\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/;
// deno-lint-ignore no-control-regex
const ESCAPED = /[&<>"\r\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/g;
// A carriage return as a character reference: a raw one would be read back as a line feed.
const ENTITY: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "\r": "&#13;",
};

/**
 * Text as XML character data: markup escaped, carriage returns as references, characters XML
 * cannot carry left out.
 */
export function xmlText(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPED, (c) => ENTITY[c] ?? "") : text;
}

/** The column letters of a 0-based column index (0 → A, 26 → AA). */
export function columnLetters(index: number): string {
  let s = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  }
  return s;
}

function cellXml(ref: string, value: XlsxValue): string {
  if (value === null) return "";
  if (typeof value === "number") {
    return Number.isFinite(value) ? `<c r="${ref}"><v>${value}</v></c>` : "";
  }
  if (value === "") return "";
  // Leading or trailing white space, or a line break, is kept only when marked to be.
  const space = /^\s|\s$|\n/.test(value) ? ' xml:space="preserve"' : "";
  return `<c r="${ref}" t="inlineStr"><is><t${space}>${xmlText(value)}</t></is></c>`;
}

function rowXml(letters: readonly string[], row: number, values: readonly XlsxValue[]): string {
  let xml = `<row r="${row}">`;
  for (let i = 0; i < values.length; i++) xml += cellXml(letters[i] + row, values[i]);
  return xml + "</row>";
}

function sheetHead(o: XlsxSheetOptions): string {
  const cols = o.columns.map((c, i) =>
    `<col min="${i + 1}" max="${i + 1}" width="${
      c.width ?? o.defaultWidth ?? 14
    }" customWidth="1"/>`
  ).join("");
  return XML_HEAD + `<worksheet xmlns="${MAIN_NS}" xmlns:r="${DOC_REL}">` +
    '<sheetViews><sheetView workbookViewId="0">' +
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>' +
    "</sheetView></sheetViews>" +
    `<cols>${cols}</cols><sheetData>`;
}

function workbookXml(sheetName: string): string {
  return XML_HEAD + `<workbook xmlns="${MAIN_NS}" xmlns:r="${DOC_REL}">` +
    `<sheets><sheet name="${xmlText(sheetName)}" sheetId="1" r:id="rId1"/></sheets></workbook>`;
}

/**
 * Writes a one-sheet workbook to `file` (already open for writing): the header row, then `rows`
 * in order. A row has at most as many values as there are columns. Returns the number of rows
 * written after the header; a failed write rejects with its error and writes nothing more.
 */
export async function writeXlsxSheet(
  file: { write(p: Uint8Array): Promise<number> },
  o: XlsxSheetOptions,
  rows: AsyncIterable<readonly XlsxValue[]> | Iterable<readonly XlsxValue[]>,
): Promise<number> {
  if (o.sheetName.length === 0 || o.sheetName.length > 31 || /[\\/?*[\]:]/.test(o.sheetName)) {
    throw new RangeError(`sheet name ${JSON.stringify(o.sheetName)}: 1–31 characters, no \\/?*[]:`);
  }
  const chunks: Uint8Array[] = [];
  let zipError: Error | null = null;
  const zip = new Zip((error, data) => {
    if (error) zipError ??= error;
    else chunks.push(data);
  });
  const drain = async () => {
    if (zipError) throw zipError;
    while (chunks.length) {
      const chunk = chunks.shift()!;
      for (let at = 0; at < chunk.length;) at += await file.write(chunk.subarray(at));
    }
  };
  const encoder = new TextEncoder();
  const level = o.level ?? 1;
  const part = (name: string, text: string) => {
    const entry = new ZlibDeflateEntry(name, level);
    zip.add(entry);
    entry.push(encoder.encode(text), true);
  };
  part("[Content_Types].xml", CONTENT_TYPES);
  part("_rels/.rels", PACKAGE_RELS);
  part("xl/workbook.xml", workbookXml(o.sheetName));
  part("xl/_rels/workbook.xml.rels", WORKBOOK_RELS);
  await drain();

  const sheet = new ZlibDeflateEntry("xl/worksheets/sheet1.xml", level);
  zip.add(sheet);
  const width = o.columns.length;
  const letters = o.columns.map((_, i) => columnLetters(i));
  let xml = sheetHead(o) + rowXml(letters, 1, o.columns.map((c) => c.header));
  let row = 1;
  let batch = 0;
  for await (const values of rows) {
    if (values.length > width) {
      throw new RangeError(`row ${row + 1} has ${values.length} values for ${width} columns`);
    }
    xml += rowXml(letters, ++row, values);
    if (++batch === ROWS_PER_BATCH) {
      sheet.push(encoder.encode(xml));
      xml = "";
      batch = 0;
      await drain();
    }
  }
  sheet.push(encoder.encode(xml + "</sheetData></worksheet>"), true);
  zip.end();
  await drain();
  return row - 1;
}
