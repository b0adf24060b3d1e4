/**
 * The text encoding of a CSV someone hands in, found from its bytes and decoded strictly.
 *
 * - UTF-8, with or without a byte-order mark;
 * - UTF-16 (little or big endian) with its byte-order mark, as Excel's "Unicode text" writes;
 * - CP949 / EUC-KR, what Excel's plain "CSV (Comma delimited)" writes on a Korean Windows:
 *   bytes that are not UTF-8 but are valid CP949 and hold Hangul are decoded as CP949 (the
 *   WHATWG `euc-kr` decoder is Windows code page 949, a superset of EUC-KR).
 *
 * Anything else — UTF-16 without a byte-order mark, bytes valid in none of these — is refused
 * with one line that says how to re-save the file. Decoding is fatal: a byte sequence that is
 * not valid in the detected encoding anywhere in the file is an error, never a U+FFFD.
 *
 * @module
 */

/** An encoding a sheet can be read in. */
export type SheetEncoding = "utf-8" | "utf-16le" | "utf-16be" | "euc-kr";

/** What {@link detectEncoding} found: the encoding and the length of its byte-order mark. */
export interface DetectedEncoding {
  encoding: SheetEncoding;
  /** Bytes of byte-order mark to skip (0 when none). */
  bom: number;
  /** How to name the encoding to a person. */
  label: string;
}

/** How to re-save a sheet so that it is read as it was meant. */
export const RESAVE_HINT = 're-save it as "CSV UTF-8 (Comma delimited) (*.csv)" ' +
  "(Excel: File › Save As) or as .xlsx";

/** The bytes are in no encoding this reader accepts. */
export class TextEncodingError extends Error {
  /** What is wrong and how to fix it, without the file name. */
  readonly reason: string;
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}; ${RESAVE_HINT}`);
    this.name = "TextEncodingError";
    this.reason = `${detail}; ${RESAVE_HINT}`;
  }
}

/** Whether `text` holds a Hangul syllable or jamo. */
function hasHangul(text: string): boolean {
  return /[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]/.test(text);
}

/**
 * Finds the encoding of a file from its first bytes (`head`, 64 KiB is plenty; `complete` when
 * it is the whole file). Throws {@link TextEncodingError} for an encoding it does not accept.
 */
export function detectEncoding(
  head: Uint8Array,
  file: string,
  complete = false,
): DetectedEncoding {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
    return { encoding: "utf-8", bom: 3, label: "UTF-8" };
  }
  if (head[0] === 0xff && head[1] === 0xfe) {
    return { encoding: "utf-16le", bom: 2, label: "UTF-16 (little endian)" };
  }
  if (head[0] === 0xfe && head[1] === 0xff) {
    return { encoding: "utf-16be", bom: 2, label: "UTF-16 (big endian)" };
  }
  const zeros = head.subarray(0, 4096).reduce((n, b) => n + (b === 0 ? 1 : 0), 0);
  if (zeros > 0) {
    throw new TextEncodingError(
      file,
      zeros * 4 >= Math.min(head.length, 4096)
        ? "looks like UTF-16 text without a byte-order mark, which cannot be read reliably"
        : "holds NUL bytes: not a text file",
    );
  }
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: !complete });
    return { encoding: "utf-8", bom: 0, label: "UTF-8" };
  } catch {
    // not UTF-8: CP949?
  }
  let text: string;
  try {
    text = new TextDecoder("euc-kr", { fatal: true }).decode(head, { stream: !complete });
  } catch {
    throw new TextEncodingError(file, "is not UTF-8, UTF-16 or CP949 (EUC-KR) text");
  }
  if (!hasHangul(text)) {
    throw new TextEncodingError(file, "is not UTF-8 text (and holds no Korean text as CP949)");
  }
  return { encoding: "euc-kr", bom: 0, label: "CP949 (EUC-KR)" };
}

/**
 * Decodes a whole file's bytes (see the module doc); a byte-order mark is kept, as U+FEFF at
 * the start of the text. Throws {@link TextEncodingError}.
 */
export function decodeText(bytes: Uint8Array, file: string): string {
  const found = detectEncoding(bytes.subarray(0, 65536), file, bytes.length <= 65536);
  try {
    return new TextDecoder(found.encoding, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new TextEncodingError(file, `is not valid ${found.label} text throughout`);
  }
}

/**
 * Decodes a stream of a file's bytes into strings, chunk by chunk, in the encoding its first
 * bytes show (see the module doc); an invalid sequence anywhere throws
 * {@link TextEncodingError}.
 */
export async function* decodeTextStream(
  chunks: AsyncIterable<Uint8Array>,
  file: string,
): AsyncGenerator<string> {
  let decoder: TextDecoder | undefined;
  let found: DetectedEncoding | undefined;
  let head = new Uint8Array(0);
  const decode = (bytes: Uint8Array, stream: boolean) => {
    try {
      return decoder!.decode(bytes, { stream });
    } catch {
      throw new TextEncodingError(file, `is not valid ${found!.label} text throughout`);
    }
  };
  for await (const chunk of chunks) {
    if (!decoder) {
      // Gather enough of the file to tell its encoding.
      const joined = new Uint8Array(head.length + chunk.length);
      joined.set(head);
      joined.set(chunk, head.length);
      head = joined;
      if (head.length < 65536) continue;
      found = detectEncoding(head, file);
      decoder = new TextDecoder(found.encoding, { fatal: true, ignoreBOM: true });
      const text = decode(head.subarray(found.bom), true);
      if (text) yield text;
      continue;
    }
    const text = decode(chunk, true);
    if (text) yield text;
  }
  if (!decoder) {
    found = detectEncoding(head, file, true);
    decoder = new TextDecoder(found.encoding, { fatal: true, ignoreBOM: true });
    const text = decode(head.subarray(found.bom), false);
    if (text) yield text;
    return;
  }
  const rest = decode(new Uint8Array(0), false);
  if (rest) yield rest;
}
