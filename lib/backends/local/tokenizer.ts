/**
 * The local models' tokenizer: one token per character (a Hangul syllable, a letter, a digit, a
 * space, a punctuation mark, a new line), plus whole-word tokens for the words the task is made of
 * (each country's and continent's name, and the list separator `, `), as a service tokenizer's
 * merges make a common word one token, plus special tokens for the chat template. Encoding takes
 * the longest token that matches at each position, so any text encodes, and decoding joins the
 * tokens' texts back. Text is NFC-normalised and `\r\n` becomes `\n`; a character outside the
 * vocabulary becomes `<unk>`. The vocabulary is stored with the weights (GGUF key
 * `tokenizer.tokens`).
 *
 * Chat template: `<s>` [`<system>` system] (`<user>` user `<assistant>` assistant `</s>`)…; a
 * prompt ends with `<assistant>` and the model writes the answer and `</s>`.
 *
 * @module
 */

/** The special tokens, in id order (ids 0–6). */
export const SPECIAL_TOKENS = [
  "<pad>",
  "<unk>",
  "<s>",
  "</s>",
  "<system>",
  "<user>",
  "<assistant>",
] as const;

/** Ids of the special tokens. */
export const TOKEN = {
  pad: 0,
  unk: 1,
  bos: 2,
  eos: 3,
  system: 4,
  user: 5,
  assistant: 6,
} as const;

/** One chat message. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

function normalise(text: string): string {
  return text.normalize("NFC").replace(/\r\n?/g, "\n");
}

function byCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The vocabulary for a set of texts: the special tokens, then printable ASCII and `\n`, then
 * every other character the texts use, in code-point order, then the whole-word tokens `words`
 * (those longer than one character), in code-point order.
 */
export function buildVocabulary(texts: Iterable<string>, words: Iterable<string> = []): string[] {
  const chars = new Set<string>(["\n"]);
  for (let c = 0x20; c < 0x7f; c++) chars.add(String.fromCharCode(c));
  for (const t of texts) for (const ch of normalise(t)) chars.add(ch);
  const merged = new Set<string>();
  for (const w of words) {
    const n = normalise(w);
    if ([...n].length > 1) merged.add(n);
    for (const ch of n) chars.add(ch);
  }
  const sorted = [...chars].sort(byCodePoints);
  return [...SPECIAL_TOKENS, ...sorted, ...[...merged].sort(byCodePoints)];
}

/**
 * How a token reads as text: part of a `word` (a Hangul syllable or jamo, a letter, a digit, or a
 * whole-word token of letters and spaces), `space` (whitespace), a `mark` (punctuation and every
 * other visible character, alone or with spaces, as the separator `, `), or `special` (the chat
 * template's tokens).
 */
export type TokenClass = "word" | "space" | "mark" | "special";

/** The class of every token of a vocabulary. */
export function tokenClasses(tokens: readonly string[]): TokenClass[] {
  return tokens.map((t, i) =>
    i < SPECIAL_TOKENS.length
      ? "special"
      : /^\s+$/u.test(t)
      ? "space"
      : /^[\p{L}\p{N}][\p{L}\p{N}\s]*$/u.test(t)
      ? "word"
      : "mark"
  );
}

/** A token sequence with the index where the answer (the trained-on part) starts. */
export interface EncodedChat {
  ids: number[];
  /** Index in `ids` of the first answer token (ids.length for a prompt). */
  answerStart: number;
}

/** Longest-match tokenizer over a fixed vocabulary of characters and whole words. */
export class Tokenizer {
  readonly tokens: readonly string[];
  #ids = new Map<string, number>();
  /** Whole-word tokens by their first character, longest first, as character arrays. */
  #words = new Map<string, { chars: string[]; id: number }[]>();

  constructor(tokens: readonly string[]) {
    SPECIAL_TOKENS.forEach((t, i) => {
      if (tokens[i] !== t) throw new Error(`vocabulary: token ${i} must be ${t}, got ${tokens[i]}`);
    });
    this.tokens = tokens;
    tokens.forEach((t, i) => {
      if (i < SPECIAL_TOKENS.length) return;
      this.#ids.set(t, i);
      const chars = [...t];
      if (chars.length < 2) return;
      const list = this.#words.get(chars[0]) ?? [];
      list.push({ chars, id: i });
      this.#words.set(chars[0], list);
    });
    for (const list of this.#words.values()) list.sort((a, b) => b.chars.length - a.chars.length);
  }

  /** Vocabulary size. */
  get size(): number {
    return this.tokens.length;
  }

  /** Token ids of plain text (no special tokens). */
  encode(text: string): number[] {
    const out: number[] = [];
    const chars = [...normalise(text)];
    for (let i = 0; i < chars.length;) {
      const word = this.#words.get(chars[i])?.find((w) =>
        w.chars.every((c, k) => chars[i + k] === c)
      );
      if (word) {
        out.push(word.id);
        i += word.chars.length;
      } else {
        out.push(this.#ids.get(chars[i]) ?? TOKEN.unk);
        i++;
      }
    }
    return out;
  }

  /** Text of token ids; special tokens are dropped, `<unk>` becomes U+FFFD. */
  decode(ids: Iterable<number>): string {
    let s = "";
    for (const id of ids) {
      if (id === TOKEN.unk) s += "\uFFFD";
      else if (id >= SPECIAL_TOKENS.length && id < this.tokens.length) s += this.tokens[id];
    }
    return s;
  }

  /** Characters of `text` that are not in the vocabulary. */
  unknownChars(text: string): string[] {
    return [...new Set([...normalise(text)].filter((ch) => !this.#ids.has(ch)))];
  }

  /** `<s>` text `</s>`: a plain document. */
  encodeDocument(text: string): number[] {
    return [TOKEN.bos, ...this.encode(text), TOKEN.eos];
  }

  /**
   * A conversation in the chat template. With `answer`, it is appended after the final
   * `<assistant>` and closed with `</s>`; `answerStart` marks where it starts.
   */
  encodeChat(messages: readonly ChatMessage[], answer?: string): EncodedChat {
    const ids: number[] = [TOKEN.bos];
    for (const m of messages) {
      if (m.role === "system") {
        if (m.content) ids.push(TOKEN.system, ...this.encode(m.content));
      } else if (m.role === "user") {
        ids.push(TOKEN.user, ...this.encode(m.content));
      } else {
        ids.push(TOKEN.assistant, ...this.encode(m.content), TOKEN.eos);
      }
    }
    ids.push(TOKEN.assistant);
    const answerStart = ids.length;
    if (answer !== undefined) ids.push(...this.encode(answer), TOKEN.eos);
    return { ids, answerStart };
  }
}
