/**
 * What every backend shares, without loading one: the CLOVA Studio API generations, the local
 * models' names and stand-ins, and the emulator's token count. The backends themselves are
 * `clova/` (the real client), `emulator/` (the local service) and `local/` (small neural models
 * on the CPU), each entered by its own `mod.ts`.
 *
 * @module
 */
export * from "./generation.ts";
export * from "./localModels.ts";
export * from "./tokenizer.ts";
export * from "./models.ts";
