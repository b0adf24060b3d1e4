/**
 * Progress lines for long work: a live bar on a terminal, a line every few seconds in a log, an
 * updating bar in a notebook. Apart from `lib/io/` so that commands that show none (and every
 * `--help`) do not load Node's module and process layers.
 *
 * @module
 */
export * from "./progress.ts";
