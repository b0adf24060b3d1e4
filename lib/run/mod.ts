/**
 * The run folder: the schema of every file in it, reading and writing them under the run's lock,
 * and the backend a run talks to. Every stage reads and writes its files through this.
 *
 * @module
 */
export * from "./schema.ts";
export * from "./folder.ts";
export * from "./backend.ts";
export * from "../limits.ts";
export * from "./taskSpec.ts";
export * from "./taskRecord.ts";
