/**
 * Fonts embedded in the HTML report, so that it looks the same on a machine with no Hangul font.
 *
 * The font is Noto Sans KR (regular and bold), read from the npm package
 * `@expo-google-fonts/noto-sans-kr`, which ships Google Fonts' TrueType files. Its licence is the
 * SIL Open Font License 1.1 ("Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font
 * Name 'Source'"); the subsets keep the font's copyright and licence records. `subset-font` (the
 * WebAssembly build of HarfBuzz's hb-subset) cuts each weight down to the characters a page uses
 * and writes WOFF, which the page then carries as `data:` URIs in `@font-face` rules. WOFF (zlib)
 * rather than WOFF2 (Brotli): a subset is about a quarter larger (≈ 38 kB against 29 kB a weight
 * for a report's 430 characters), but WOFF2's WebAssembly Brotli encoder takes about 0.7 s to
 * start and compress in every process that writes a report, WOFF about 40 ms.
 * @module
 */
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";

/** The CSS family name of the embedded font (first in every font stack of the report). */
export const EMBEDDED_FONT_FAMILY = "Noto Sans KR";

/** Licence of the embedded font, as its name table states it. */
export const EMBEDDED_FONT_LICENCE =
  "Noto Sans KR © 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name 'Source'; " +
  "SIL Open Font License 1.1 (https://scripts.sil.org/OFL)";

const FONT_PACKAGE = "@expo-google-fonts/noto-sans-kr";
const WEIGHTS = [
  { weight: 400, file: "400Regular/NotoSansKR_400Regular.ttf" },
  { weight: 700, file: "700Bold/NotoSansKR_700Bold.ttf" },
] as const;

/**
 * OpenType features kept in the subsets: kerning, ligatures and the glyph (de)composition and
 * local forms that shaping needs. Dropping the rest (vertical, full-width and other alternates)
 * halves the size of a subset.
 */
const KEEP_FEATURES = ["kern", "liga", "ccmp", "locl"];
/** Name records kept: family, style and version (0–6) plus licence description and URL. */
const NAME_IDS = [0, 1, 2, 3, 4, 5, 6, 13, 14];

/** One weight of the embedded font, subset to a page's characters. */
export interface EmbeddedFont {
  weight: 400 | 700;
  /** WOFF bytes. */
  woff: Uint8Array;
}

/** Raised when the font package is not installed; the message says how to install it. */
export class FontMissingError extends Error {
  constructor(detail: string) {
    super(
      `the report font (${FONT_PACKAGE}) is not installed: run \`deno install\` in the ` +
        `repository (${detail})`,
    );
    this.name = "FontMissingError";
  }
}

const sources = new Map<number, Promise<Uint8Array>>();

function fontSource(weight: number, file: string): Promise<Uint8Array> {
  let source = sources.get(weight);
  if (!source) {
    source = (async () => {
      let path: string;
      try {
        path = createRequire(import.meta.url).resolve(`${FONT_PACKAGE}/${file}`);
      } catch (e) {
        throw new FontMissingError(e instanceof Error ? e.message.split("\n")[0] : String(e));
      }
      return await Deno.readFile(path);
    })();
    sources.set(weight, source);
    source.catch(() => sources.delete(weight));
  }
  return source;
}

/**
 * The characters to keep for `text`: every character it contains (control characters aside)
 * plus all printable ASCII, so that digits and Latin letters added later still render.
 */
export function glyphText(text: string): string {
  const chars = new Set<string>();
  for (let c = 0x20; c < 0x7f; c++) chars.add(String.fromCharCode(c));
  for (const ch of text) if (ch.codePointAt(0)! >= 0x20) chars.add(ch);
  return [...chars].sort().join("");
}

/** Subsets both weights of the embedded font to the characters of `text`. */
export async function subsetFonts(text: string): Promise<EmbeddedFont[]> {
  const { default: subsetFont } = await import("subset-font");
  const keep = glyphText(text);
  return await Promise.all(WEIGHTS.map(async ({ weight, file }) => {
    const source = await fontSource(weight, file);
    const woff = await subsetFont(Buffer.from(source), keep, {
      targetFormat: "woff",
      keepFeatures: KEEP_FEATURES,
      preserveNameIds: NAME_IDS,
    });
    return { weight, woff: new Uint8Array(woff) };
  }));
}

/** `@font-face` rules that carry `fonts` as `data:` URIs. */
export function fontFaceCss(fonts: readonly EmbeddedFont[]): string {
  const rules = fonts.map((f) =>
    `@font-face { font-family: "${EMBEDDED_FONT_FAMILY}"; font-style: normal; ` +
    `font-weight: ${f.weight}; font-display: block; ` +
    `src: url(data:font/woff;base64,${Buffer.from(f.woff).toString("base64")}) format("woff"); }`
  );
  return `/* ${EMBEDDED_FONT_LICENCE}; subset to the characters of this page */\n${
    rules.join("\n")
  }\n`;
}

/** The `@font-face` CSS that makes `text` render with the embedded font. */
export async function embeddedFontCss(text: string): Promise<string> {
  return fontFaceCss(await subsetFonts(text));
}
