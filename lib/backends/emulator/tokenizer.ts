/**
 * The **emulator tokenizer v1** — the one token rule behind every count the emulator reports
 * (`inputLength`/`outputLength`, `usage`, the chat-tokenize API, dataset `numOfTokens`, TPM).
 * It is not HyperCLOVA X's tokenizer and does not pretend to be:
 *
 * - each Hangul syllable (U+AC00–U+D7A3) is one token;
 * - each maximal run of ASCII letters and digits is one token per {@link MAX_WORD_CHARACTERS}
 *   characters or part of them (a word is one token; a run of thousands of characters, which no
 *   tokenizer keeps whole, is many, so it meets the input-token limit instead of the learner);
 * - every other non-whitespace character (punctuation, other scripts, emoji) is one token;
 * - whitespace costs nothing;
 * - each chat message adds {@link MESSAGE_OVERHEAD} tokens (role and turn markers).
 *
 * @module
 */

/** Name shown wherever emulator token counts appear. */
export const TOKENIZER_NAME = "emulator tokenizer v1";

/** Tokens added per chat message for its role/turn markers. */
export const MESSAGE_OVERHEAD = 3;

/** Tokens counted for one image part (the reference's doc example). */
export const IMAGE_TOKENS = 1478;

/** The most ASCII letters and digits one token holds. */
export const MAX_WORD_CHARACTERS = 32;

const TOKEN_RE = /[\uAC00-\uD7A3]|[A-Za-z0-9]{1,32}|[^\sA-Za-z0-9\uAC00-\uD7A3]/gu;

/** Splits text into emulator tokens; joining them with the skipped whitespace restores the text. */
export function tokenize(text: string): string[] {
  return text.match(TOKEN_RE) ?? [];
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f ||
    c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** Number of emulator tokens in `text` (same result as `tokenize(text).length`, faster). */
export function countTokens(text: string): number {
  let n = 0;
  let run = 0; // letters and digits in the current token so far
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
      if (run === 0 || run === MAX_WORD_CHARACTERS) {
        n++;
        run = 0;
      }
      run++;
      continue;
    }
    run = 0;
    if (isSpace(c)) continue;
    if (c >= 0xd800 && c <= 0xdbff) i++; // a surrogate pair is one character
    n++;
  }
  return n;
}

/** Tokens one chat message costs: its content plus {@link MESSAGE_OVERHEAD}. */
export function messageTokens(content: string): number {
  return countTokens(content) + MESSAGE_OVERHEAD;
}

/**
 * Splits `text` into stream pieces, one per token, each carrying the whitespace that precedes
 * it, so concatenating the pieces gives back `text` exactly.
 */
export function streamPieces(text: string): string[] {
  const pieces: string[] = [];
  let last = 0;
  for (const m of text.matchAll(TOKEN_RE)) {
    const end = m.index + m[0].length;
    pieces.push(text.slice(last, end));
    last = end;
  }
  if (last < text.length) {
    if (pieces.length) pieces[pieces.length - 1] += text.slice(last);
    else pieces.push(text.slice(last));
  }
  return pieces;
}

/** Cuts `text` after its first `maxTokens` tokens (keeping the whitespace between them). */
export function truncateTokens(text: string, maxTokens: number): { text: string; cut: boolean } {
  if (maxTokens <= 0) return { text: "", cut: text.length > 0 };
  let n = 0;
  for (const m of text.matchAll(TOKEN_RE)) {
    n++;
    if (n === maxTokens) {
      const end = m.index + m[0].length;
      return { text: text.slice(0, end), cut: countTokens(text.slice(end)) > 0 };
    }
  }
  return { text, cut: false };
}
