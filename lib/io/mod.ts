/**
 * Reading and writing, for every stage: files written atomically, the one-writer lock, hashes,
 * progress lines, spreadsheet cells, HTML tables and whether a process is alive.
 *
 * @module
 */
export * from "./atomicFile.ts";
export * from "./hash.ts";
export * from "./html.ts";
export * from "./lock.ts";
export * from "./processAlive.ts";
export * from "./fetchFailure.ts";
export * from "./readAt.ts";
