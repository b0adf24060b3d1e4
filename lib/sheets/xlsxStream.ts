/**
 * Reads one worksheet of an XLSX file as a stream of rows, in memory that does not grow with the
 * sheet: the ZIP's central directory says where each part is, and only the parts needed (the
 * workbook, its relationships, the shared strings and the one sheet) are inflated, as they are
 * read, and parsed with a streaming XML parser (saxes). The shared strings are kept (cells refer
 * to them by number); the rows are never all held.
 *
 * exceljs's own streaming reader is not used: it decodes each chunk of a part's XML on its own
 * (a Hangul character split across two chunks becomes U+FFFD), and its ZIP reader, which reads
 * local headers only, misreads some of the files exceljs itself writes.
 *
 * Cells are read as text: shared and inline strings, numbers as written, booleans as
 * `TRUE`/`FALSE`, a formula's cached value; an error cell is reported as such.
 *
 * @module
 */
import type { SaxesParser } from "saxes";
import { readAt } from "../io/mod.ts";

/** The file is not an XLSX this reader can read; the message says why. */
export class XlsxFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XlsxFormatError";
  }
}

/** One cell's content: text, or an error value (`#N/A`, …). */
export type XlsxCell = string | { error: string };

/** One row: its 1-based number and its cells by 0-based column (empty cells are ""). */
export interface XlsxRow {
  row: number;
  cells: XlsxCell[];
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  /** The inflated size the directory states (a hint only: never trusted to bound a read). */
  size: number;
  localOffset: number;
}

/** The entries of a ZIP file's central directory. */
async function zipEntries(file: Deno.FsFile): Promise<Map<string, ZipEntry>> {
  const size = (await file.stat()).size;
  const tailLength = Math.min(size, 65_557);
  const tail = await readAt(file, size - tailLength, tailLength);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new XlsxFormatError("not an XLSX file (no ZIP directory)");
  const count = view.getUint16(eocd + 10, true);
  const cdSize = view.getUint32(eocd + 12, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  if (cdOffset === 0xffffffff || count === 0xffff) {
    throw new XlsxFormatError("a ZIP64 workbook (over 4 GB) is not supported");
  }
  const cd = await readAt(file, cdOffset, cdSize);
  const dv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder();
  let at = 0;
  for (let n = 0; n < count && at + 46 <= cd.length; n++) {
    if (dv.getUint32(at, true) !== 0x02014b50) {
      throw new XlsxFormatError("a broken ZIP directory");
    }
    const nameLength = dv.getUint16(at + 28, true);
    const extraLength = dv.getUint16(at + 30, true);
    const commentLength = dv.getUint16(at + 32, true);
    const name = decoder.decode(cd.subarray(at + 46, at + 46 + nameLength));
    entries.set(name, {
      name,
      method: dv.getUint16(at + 10, true),
      compressedSize: dv.getUint32(at + 20, true),
      size: dv.getUint32(at + 24, true),
      localOffset: dv.getUint32(at + 42, true),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The text of one ZIP entry, inflated and decoded as it is read. */
async function* entryText(file: Deno.FsFile, entry: ZipEntry): AsyncGenerator<string> {
  const local = await readAt(file, entry.localOffset, 30);
  const lv = new DataView(local.buffer, local.byteOffset, local.byteLength);
  if (local.length < 30 || lv.getUint32(0, true) !== 0x04034b50) {
    throw new XlsxFormatError(`a broken ZIP entry ${entry.name}`);
  }
  let offset = entry.localOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
  let left = entry.compressedSize;
  // Small reads: each read inflates (often tenfold) into one decoded string, and strings of
  // hundreds of KB made the heap grow far more than short-lived small ones (a 20,000-prompt
  // sheet read twice: peak RSS 193-245 MB with 64 KB reads, 147-159 MB with 2-8 KB, no slower).
  const raw = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (left <= 0) return controller.close();
      const chunk = await readAt(file, offset, Math.min(left, 1 << 12));
      if (chunk.length === 0) return controller.error(new XlsxFormatError("the file ends early"));
      offset += chunk.length;
      left -= chunk.length;
      controller.enqueue(chunk);
    },
  });
  let bytes: ReadableStream<Uint8Array>;
  if (entry.method === 8) {
    bytes = raw.pipeThrough(
      new DecompressionStream("deflate-raw") as unknown as TransformStream<Uint8Array, Uint8Array>,
    );
  } else if (entry.method === 0) bytes = raw;
  else throw new XlsxFormatError(`ZIP compression method ${entry.method} is not supported`);
  const text: ReadableStream<string> = bytes.pipeThrough(
    new TextDecoderStream("utf-8", { fatal: true }),
  );
  yield* text;
}

/** Runs `onTag`/`onText`/`onClose` over one entry's XML, a chunk at a time. */
async function* parseXml<T>(
  text: AsyncIterable<string>,
  handle: (parser: SaxesParser, emit: (item: T) => void) => void,
): AsyncGenerator<T> {
  // saxes is CommonJS: loaded on the first sheet read, so that importing this folder's entrance
  // does not start the CommonJS loader.
  const { SaxesParser } = await import("saxes");
  const parser = new SaxesParser();
  let pending: T[] = [];
  let error: unknown;
  parser.on("error", (e) => error ??= e);
  handle(parser, (item) => pending.push(item));
  for await (const chunk of text) {
    parser.write(chunk);
    if (error) throw new XlsxFormatError(`malformed XML: ${(error as Error).message}`);
    if (pending.length) {
      const out = pending;
      pending = [];
      yield* out;
    }
  }
  parser.close();
  if (error) throw new XlsxFormatError(`malformed XML: ${(error as Error).message}`);
  yield* pending;
}

const local = (name: string) => name.slice(name.indexOf(":") + 1);

/** The sheets of the workbook, in order: name and the part that holds each. */
async function sheetParts(
  file: Deno.FsFile,
  entries: Map<string, ZipEntry>,
): Promise<{ name: string; part: string }[]> {
  const workbook = entries.get("xl/workbook.xml");
  const rels = entries.get("xl/_rels/workbook.xml.rels");
  if (!workbook || !rels) throw new XlsxFormatError("not an XLSX workbook (no xl/workbook.xml)");
  const targets = new Map<string, string>();
  for await (
    const [id, target] of parseXml<[string, string]>(entryText(file, rels), (p, emit) => {
      p.on("opentag", (t) => {
        if (local(t.name) === "Relationship") {
          emit([String(t.attributes.Id), String(t.attributes.Target)]);
        }
      });
    })
  ) targets.set(id, target);
  const sheets: { name: string; part: string }[] = [];
  for await (
    const s of parseXml<{ name: string; id: string }>(entryText(file, workbook), (p, emit) => {
      p.on("opentag", (t) => {
        if (local(t.name) !== "sheet") return;
        const id = Object.entries(t.attributes).find(([k]) => local(k) === "id")?.[1];
        emit({ name: String(t.attributes.name), id: String(id) });
      });
    })
  ) {
    const target = targets.get(s.id);
    if (!target) continue;
    const part = target.startsWith("/") ? target.slice(1) : `xl/${target}`;
    sheets.push({ name: s.name, part: part.replace(/\/\.\//g, "/") });
  }
  return sheets;
}

/**
 * The shared strings table, held as UTF-8 bytes outside the JavaScript heap: a string is decoded
 * when a cell refers to it. A sheet of long prompts puts nearly all of its text here, and kept as
 * heap strings for a whole run that text makes the garbage collector grow the heap by a multiple
 * of it.
 */
class SharedStrings {
  #bytes: Uint8Array;
  #used = 0;
  #ends = new Uint32Array(1024);
  #count = 0;
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();

  constructor(capacity: number) {
    this.#bytes = new Uint8Array(Math.max(1024, capacity));
  }

  /** How many strings the table holds. */
  get length(): number {
    return this.#count;
  }

  /** Appends text to the string being read. */
  append(text: string): void {
    let rest = text;
    for (;;) {
      const { read, written } = this.#encoder.encodeInto(rest, this.#bytes.subarray(this.#used));
      this.#used += written;
      if (read === rest.length) return;
      rest = rest.slice(read);
      const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#used + rest.length * 3));
      grown.set(this.#bytes.subarray(0, this.#used));
      this.#bytes = grown;
    }
  }

  /** Ends the string being read (the next {@link append} starts the next one). */
  end(): void {
    if (this.#count === this.#ends.length) {
      const grown = new Uint32Array(this.#ends.length * 2);
      grown.set(this.#ends);
      this.#ends = grown;
    }
    this.#ends[this.#count++] = this.#used;
  }

  /** String `index`, or undefined when the table has no such string. */
  get(index: number): string | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.#count) return undefined;
    const start = index === 0 ? 0 : this.#ends[index - 1];
    return this.#decoder.decode(this.#bytes.subarray(start, this.#ends[index]));
  }
}

/** The shared strings table (every `<si>`'s text, runs joined, phonetic runs left out). */
async function sharedStrings(
  file: Deno.FsFile,
  entries: Map<string, ZipEntry>,
): Promise<SharedStrings> {
  const entry = entries.get("xl/sharedStrings.xml");
  if (!entry) return new SharedStrings(0);
  // The text is never longer in UTF-8 than the XML that holds it, so the stated size is room
  // enough; a size far beyond what the compressed bytes could hold is not taken at its word.
  const table = new SharedStrings(Math.min(entry.size, entry.compressedSize * 64));
  for await (
    const _ of parseXml<never>(entryText(file, entry), (p) => {
      let inT = false;
      let inPhonetic = 0;
      p.on("opentag", (t) => {
        const n = local(t.name);
        if (n === "rPh") inPhonetic++;
        else if (n === "t" && !inPhonetic) inT = true;
      });
      p.on("text", (v) => {
        if (inT) table.append(v);
      });
      p.on("closetag", (t) => {
        const n = local(t.name);
        if (n === "t") inT = false;
        else if (n === "rPh") inPhonetic--;
        else if (n === "si") table.end();
      });
    })
  ) { /* the table is filled by the handlers */ }
  return table;
}

/** Column index (0-based) of a cell reference like `AB12`. */
function columnOf(ref: string): number {
  let n = 0;
  for (let i = 0; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    if (c < 65 || c > 90) break;
    n = n * 26 + (c - 64);
  }
  return n - 1;
}

/**
 * Opens an XLSX file and streams the rows of the sheet named `sheetName` (default: the first).
 * `sheet` is the name of the sheet read; the rows come from `rows`. Throws
 * {@link XlsxFormatError} for a file it cannot read, and a plain Error naming the sheets when
 * `sheetName` is not one of them.
 */
export async function openXlsxSheet(
  path: string,
  sheetName?: string,
): Promise<{ sheet: string; sheets: string[]; rows: AsyncGenerator<XlsxRow> }> {
  const file = await Deno.open(path, { read: true });
  try {
    const entries = await zipEntries(file);
    const sheets = await sheetParts(file, entries);
    if (sheets.length === 0) throw new XlsxFormatError("the workbook has no sheets");
    const chosen = sheetName === undefined ? sheets[0] : sheets.find((s) => s.name === sheetName);
    if (!chosen) {
      file.close();
      return {
        sheet: sheetName!,
        sheets: sheets.map((s) => s.name),
        rows: (async function* () {})(),
      };
    }
    const entry = entries.get(chosen.part);
    if (!entry) throw new XlsxFormatError(`the sheet "${chosen.name}" has no part ${chosen.part}`);
    const strings = await sharedStrings(file, entries);
    const rows = (async function* (): AsyncGenerator<XlsxRow> {
      try {
        yield* sheetRows(entryText(file, entry), strings);
      } finally {
        file.close();
      }
    })();
    return { sheet: chosen.name, sheets: sheets.map((s) => s.name), rows };
  } catch (e) {
    try {
      file.close();
    } catch {
      // already closed
    }
    if (e instanceof XlsxFormatError) throw e;
    throw new XlsxFormatError(`not an XLSX file: ${(e as Error).message}`);
  }
}

function sheetRows(text: AsyncIterable<string>, strings: SharedStrings) {
  return parseXml<XlsxRow>(text, (p, emit) => {
    let row: XlsxRow | undefined;
    let rowNumber = 0;
    let col = -1;
    let type = "n";
    let value = "";
    let inValue = false;
    let formula = false;
    p.on("opentag", (t) => {
      switch (local(t.name)) {
        case "row": {
          const r = Number(t.attributes.r);
          rowNumber = Number.isInteger(r) && r > 0 ? r : rowNumber + 1;
          row = { row: rowNumber, cells: [] };
          col = -1;
          break;
        }
        case "c": {
          const ref = t.attributes.r;
          col = ref ? columnOf(String(ref)) : col + 1;
          type = String(t.attributes.t ?? "n");
          value = "";
          formula = false;
          break;
        }
        case "v":
        case "t":
          inValue = true;
          break;
        case "f":
          formula = true;
          break;
        case "rPh":
          inValue = false;
          break;
      }
    });
    p.on("text", (v) => {
      if (inValue) value += v;
    });
    p.on("closetag", (t) => {
      switch (local(t.name)) {
        case "v":
        case "t":
          inValue = false;
          break;
        case "c": {
          if (!row) break;
          let cell: XlsxCell;
          if (type === "s") cell = strings.get(Number(value)) ?? "";
          else if (type === "e") cell = { error: value };
          else if (type === "b") cell = value === "1" ? "TRUE" : value === "0" ? "FALSE" : value;
          else cell = value;
          void formula;
          while (row.cells.length < col) row.cells.push("");
          row.cells[col] = cell;
          break;
        }
        case "row":
          if (row) emit(row);
          row = undefined;
          break;
      }
    });
  });
}
