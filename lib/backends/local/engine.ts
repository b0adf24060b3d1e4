/**
 * The local model as a service: loads the committed base models once, keeps a
 * {@link Generator} per (base model, adapter) — a few at a time, least recently used first out —
 * and answers chat messages with CLOVA Studio's sampling parameters. Used by the emulator's
 * local engine; usable on its own.
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
  generator: Generator;
  lora: Lora | undefined;
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

  async #generator(name: LocalModelName, adapterPath: string | undefined): Promise<Generator> {
    const key = `${name}\u0000${adapterPath ?? ""}`;
    const hit = this.#gens.get(key);
    if (hit) {
      hit.used = ++this.#clock;
      return hit.generator;
    }
    const model = await this.base(name);
    const lora = adapterPath ? loadAdapter(adapterPath, model) : undefined;
    const generator = new Generator(
      model.config,
      model.weights,
      lora,
      model.tokenizer.tokens,
      this.#opts.slots,
    );
    this.#gens.set(key, { generator, lora, used: ++this.#clock });
    if (this.#gens.size > this.#opts.keep) {
      const [oldKey, old] = [...this.#gens].reduce((a, b) => (b[1].used < a[1].used ? b : a));
      this.#gens.delete(oldKey);
      await old.generator.close();
      old.lora?.params.free();
    }
    return generator;
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
    const gen = await this.#generator(name, adapterPath);
    const prompt = model.tokenizer.encodeChat(messages).ids;
    const out = await gen.generate(prompt, sampling, signal);
    return {
      text: model.tokenizer.decode(out.ids),
      finishReason: out.finishReason,
      promptTokens: out.promptTokens,
      completionTokens: out.ids.length + (out.finishReason === "stop" ? 1 : 0),
    };
  }

  /** Frees every generator and model. */
  async close(): Promise<void> {
    for (const e of this.#gens.values()) {
      await e.generator.close();
      e.lora?.params.free();
    }
    this.#gens.clear();
    for (const p of this.#bases.values()) (await p.catch(() => undefined))?.weights.free();
    this.#bases.clear();
  }
}
