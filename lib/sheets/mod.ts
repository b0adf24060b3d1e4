/**
 * The sheets practitioners hand in and get back: tuning CSVs in either CLOVA Studio layout, XLSX
 * prompt sheets read as a stream, result sheets written as one, the text encodings Excel saves in, and the cell rules that keep
 * a sheet safe to open.
 *
 * @module
 */
export * from "./cells.ts";
export * from "./excel.ts";
export * from "./textEncoding.ts";
export * from "./xlsxStream.ts";
export * from "./xlsxWriter.ts";
export * from "./tuningCsv.ts";
