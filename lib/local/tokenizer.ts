/**
 * The local models' syllable-level tokenizer: one token per character (a Hangul syllable, a
 * letter, a digit, a space, a punctuation mark, a new line), plus special tokens for the chat
 * template. Text is NFC-normalised and `\r\n` becomes `\n`; a character outside the vocabulary
 * becomes `<unk>`. The vocabulary is stored with the weights (GGUF key `tokenizer.tokens`).
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

/**
 * The vocabulary for a set of texts: the special tokens, then printable ASCII and `\n`, then
 * every other character the texts use, in code-point order.
 */
export function buildVocabulary(texts: Iterable<string>): string[] {
  const chars = new Set<string>(["\n"]);
  for (let c = 0x20; c < 0x7f; c++) chars.add(String.fromCharCode(c));
  for (const t of texts) for (const ch of normalise(t)) chars.add(ch);
  const sorted = [...chars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  return [...SPECIAL_TOKENS, ...sorted];
}

/** A token sequence with the index where the answer (the trained-on part) starts. */
export interface EncodedChat {
  ids: number[];
  /** Index in `ids` of the first answer token (ids.length for a prompt). */
  answerStart: number;
}

/** Character-level tokenizer over a fixed vocabulary. */
export class Tokenizer {
  readonly tokens: readonly string[];
  #ids = new Map<string, number>();

  constructor(tokens: readonly string[]) {
    SPECIAL_TOKENS.forEach((t, i) => {
      if (tokens[i] !== t) throw new Error(`vocabulary: token ${i} must be ${t}, got ${tokens[i]}`);
    });
    this.tokens = tokens;
    tokens.forEach((t, i) => {
      if (i >= SPECIAL_TOKENS.length) this.#ids.set(t, i);
    });
  }

  /** Vocabulary size. */
  get size(): number {
    return this.tokens.length;
  }

  /** Token ids of plain text (no special tokens). */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const ch of normalise(text)) out.push(this.#ids.get(ch) ?? TOKEN.unk);
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
