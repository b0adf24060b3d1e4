/**
 * Lossless re-compression of PNG figures for embedding in the report: the same pixels and the same
 * colour profile in fewer bytes. `pngjs` decodes the image and writes it again with no row filter
 * and zlib level 9 (best for flat-coloured charts and screenshots), as RGB when every pixel is
 * opaque; the source's colour profile (`iCCP` chunk) is copied over unchanged.
 *
 * Figures that never change are re-compressed once and kept beside the originals, in
 * `compressed/` with `compressed/sources.json` (each copy's file name → the SHA-256 of the original
 * it was made from). `deno run -A lib/report/png.ts DIR` (re)writes the copies of every PNG in `DIR`.
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../io/atomicFile.ts";

const SIGNATURE = 8;

/** One chunk of a PNG file: its type and where its bytes (length, type, data, CRC) lie. */
interface Chunk {
  type: string;
  start: number;
  end: number;
}

function chunks(png: Uint8Array): Chunk[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunk[] = [];
  for (let at = SIGNATURE; at + 12 <= png.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    out.push({ type, start: at, end: at + 12 + length });
    at += 12 + length;
  }
  return out;
}

/**
 * `bytes` re-encoded losslessly, or `bytes` itself when that is not smaller or the image is not
 * 8-bit truecolour (other kinds pass through untouched).
 */
export async function recompressPng(bytes: Uint8Array): Promise<Uint8Array> {
  const all = chunks(bytes);
  const header = all[0];
  if (header?.type !== "IHDR") return bytes;
  const bitDepth = bytes[header.start + 16];
  const colorType = bytes[header.start + 17];
  if (bitDepth !== 8 || (colorType !== 2 && colorType !== 6)) return bytes;

  const { PNG } = await import("pngjs");
  const image = PNG.sync.read(Buffer.from(bytes));
  const data: Uint8Array = image.data;
  let opaque = true;
  for (let i = 3; i < data.length && opaque; i += 4) opaque = data[i] === 255;
  const encoded: Uint8Array = PNG.sync.write(image, {
    colorType: opaque ? 2 : 6,
    deflateLevel: 9,
    deflateStrategy: 0, // zlib's default strategy (pngjs defaults to run-length only)
    filterType: 0,
  });
  const profile = all.find((c) => c.type === "iCCP");
  const out = profile
    ? insertAfterHeader(encoded, bytes.subarray(profile.start, profile.end))
    : encoded;
  return out.length < bytes.length ? out : bytes;
}

function insertAfterHeader(png: Uint8Array, chunk: Uint8Array): Uint8Array {
  const at = chunks(png)[0].end;
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, at));
  out.set(chunk, at);
  out.set(png.subarray(at), at + chunk.length);
  return out;
}

/** The folder, beside the originals, that holds their re-compressed copies. */
export const COMPRESSED_DIR = "compressed";
const SOURCES = "sources.json";

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The re-compressed copies kept in `dir/compressed/` (see the module notes). */
export interface CompressedCopies {
  /**
   * `original` (the bytes of `dir/file`) re-compressed: the kept copy when it was made from these
   * very bytes, else re-compressed now.
   */
  get(file: string, original: Uint8Array): Promise<Uint8Array>;
}

/** Opens the copies kept for the PNGs of `dir` (none kept: every figure is re-compressed). */
export async function readCompressedCopies(dir: string): Promise<CompressedCopies> {
  let sources: Record<string, string> = {};
  try {
    sources = JSON.parse(await Deno.readTextFile(join(dir, COMPRESSED_DIR, SOURCES)));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return {
    async get(file, original) {
      if (typeof sources[file] === "string" && sources[file] === sha256(original)) {
        try {
          return await Deno.readFile(join(dir, COMPRESSED_DIR, file));
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
      }
      return await recompressPng(original);
    },
  };
}

/** Re-compresses every PNG of `dir` into `dir/compressed/` and records what each came from. */
export async function writeCompressedCopies(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.toLowerCase().endsWith(".png")) files.push(e.name);
  }
  files.sort();
  await Deno.mkdir(join(dir, COMPRESSED_DIR), { recursive: true });
  const sources: Record<string, string> = {};
  for (const file of files) {
    const original = await Deno.readFile(join(dir, file));
    await writeFileAtomic(join(dir, COMPRESSED_DIR, file), await recompressPng(original));
    sources[file] = sha256(original);
  }
  await writeJsonAtomic(join(dir, COMPRESSED_DIR, SOURCES), sources);
  return files;
}

if (import.meta.main) {
  const [dir] = Deno.args;
  if (!dir || Deno.args.length > 1) {
    console.error(
      "usage: deno run -A lib/report/png.ts DIR   (re-compresses DIR/*.png into DIR/compressed/)",
    );
    Deno.exit(2);
  }
  for (const file of await writeCompressedCopies(dir)) {
    console.log(`${join(dir, COMPRESSED_DIR, file)}`);
  }
}
