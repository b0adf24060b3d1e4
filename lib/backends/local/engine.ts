/**
 * The local model as a service: loads the committed base models once, keeps one
 * {@link Generator} per (base model, adapter) — made once however many chats ask for it at the
 * same moment, a few kept at a time, the least recently used one that no chat is using first
 * out — and answers chat messages with CLOVA Studio's sampling parameters. Used by the
 * emulator's local engine; usable on its own.
 *
 * @module
 */
import { Generator } from "./generate.ts";
import type { Lora } from "./model.ts";
import { type BaseModel, loadBaseModel, type LocalModelName, WEIGHTS_DIR } from "./models.ts";
import type { Sampling } from "./sampler.ts";
import type { ChatMessage } from "./tokenizer.ts";
import { loadAdapter } from "./tune.ts";

/** One answer. */
export interface LocalAnswer {
  text: string;
  finishReason: "stop" | "length";
  promptTokens: number;
  completionTokens: number;
}

interface Entry {
  /** The generator and its adapter, once made (one promise, shared by every chat that asks). */
  made: Promise<{ generator: Generator; lora: Lora | undefined }>;
  /** Chats using it now; an entry in use is never closed. */
  users: number;
  used: number;
}

/** Options for {@link LocalEngine}. */
export interface LocalEngineOptions {
  /** Folder of the committed weights (default `data/local-models`). */
  weightsDir?: string;
  /** Sequences decoded together per model (default 16). */
  slots?: number;
  /** Generators kept at once (default 4). */
  keep?: number;
}

/** Loads base models and adapters on demand and answers chats. */
export class LocalEngine {
  #bases = new Map<string, Promise<BaseModel>>();
  #gens = new Map<string, Entry>();
  #clock = 0;
  #open = 0;
  readonly #opts: Required<LocalEngineOptions>;

  constructor(opts: LocalEngineOptions = {}) {
    this.#opts = { weightsDir: WEIGHTS_DIR, slots: 16, keep: 4, ...opts };
  }

  /** A base model, loaded (and checksum-verified) once. */
  base(name: LocalModelName): Promise<BaseModel> {
    let p = this.#bases.get(name);
    if (!p) {
      p = loadBaseModel(name, this.#opts.weightsDir);
      p.catch(() => this.#bases.delete(name));
      this.#bases.set(name, p);
    }
    return p;
  }

  /** The entry of (model, adapter), made once; the caller counts itself among its users. */
  #entry(name: LocalModelName, adapterPath: string | undefined): Entry {
    const key = `${name}\u0000${adapterPath ?? ""}`;
    let entry = this.#gens.get(key);
    if (!entry) {
      const made = this.base(name).then((model) => {
        const lora = adapterPath ? loadAdapter(adapterPath, model) : undefined;
        const generator = new Generator(
          model.config,
          model.weights,
          lora,
          model.tokenizer.tokens,
          this.#opts.slots,
        );
        this.#open++;
        return { generator, lora };
      });
      const e: Entry = { made, users: 0, used: 0 };
      made.catch(() => {
        if (this.#gens.get(key) === e) this.#gens.delete(key);
      });
      this.#gens.set(key, e);
      entry = e;
    }
    entry.used = ++this.#clock;
    entry.users++;
    return entry;
  }

  /** Closes the least recently used idle generators while more than `keep` are open. */
  async #evict(): Promise<void> {
    while (this.#gens.size > this.#opts.keep) {
      const idle = [...this.#gens].filter(([, e]) => e.users === 0);
      if (!idle.length) return;
      const [key, old] = idle.reduce((a, b) => (b[1].used < a[1].used ? b : a));
      this.#gens.delete(key);
      await this.#close(old);
    }
  }

  async #close(e: Entry): Promise<void> {
    const made = await e.made.catch(() => undefined);
    if (!made) return;
    await made.generator.close();
    made.lora?.params.free();
    this.#open--;
  }

  /** Generators open now: one per (model, adapter) in use or kept, at most `keep` idle ones. */
  get openGenerators(): number {
    return this.#open;
  }

  /** Tokens of a chat prompt (the chat template, ending with `<assistant>`). */
  async promptTokens(name: LocalModelName, messages: readonly ChatMessage[]): Promise<number> {
    return (await this.base(name)).tokenizer.encodeChat(messages).ids.length;
  }

  /**
   * Answers `messages` with the base model `name`, or with an adapter over it; an aborted
   * `signal` (the client went away) stops the generation.
   */
  async chat(
    name: LocalModelName,
    adapterPath: string | undefined,
    messages: readonly ChatMessage[],
    sampling: Sampling,
    signal?: AbortSignal,
  ): Promise<LocalAnswer> {
    const model = await this.base(name);
    const entry = this.#entry(name, adapterPath);
    let out;
    try {
      const { generator } = await entry.made;
      out = await generator.generate(model.tokenizer.encodeChat(messages).ids, sampling, signal);
    } finally {
      entry.users--;
      await this.#evict();
    }
    return {
      text: model.tokenizer.decode(out.ids),
      finishReason: out.finishReason,
      promptTokens: out.promptTokens,
      completionTokens: out.ids.length + (out.finishReason === "stop" ? 1 : 0),
    };
  }

  /** Frees every generator and model. */
  async close(): Promise<void> {
    for (const e of this.#gens.values()) await this.#close(e);
    this.#gens.clear();
    for (const p of this.#bases.values()) (await p.catch(() => undefined))?.weights.free();
    this.#bases.clear();
  }
}
