/**
 * Delimited text (CSV/TSV) with RFC 4180 quoting inside a line: `"a, b"` is one field and `""`
 * inside quotes is a literal quote. Quoted fields spanning lines are not supported (none of the
 * recommendation datasets use them). Pure parser (browser-safe).
 * @module
 */

import { DataFormatError } from "./types.ts";
import {
  type LineParser,
  type LineStream,
  runParser,
  runParserAsync,
  type TextInput,
} from "./text.ts";

/** A parsed delimited file: header and string cells. */
export interface CsvTable {
  /** Source name used in errors. */
  source: string;
  /** Column names. */
  header: string[];
  /** Rows of cells, each `header.length` long. */
  rows: string[][];
  /** 1-based line number of each row in the source (for error messages downstream). */
  lines: Int32Array;
}

/** Options for {@link parseCsv}. */
export interface CsvOptions {
  /** Name used in error messages. Default `"<csv>"`. */
  source?: string;
  /** Field delimiter. Default `","`. */
  delimiter?: string;
  /**
   * `true` (default): the first line is the header. An array: the column names of a file
   * without a header line (e.g. raw Criteo TSV, see {@link CRITEO_COLUMNS}).
   */
  header?: true | readonly string[];
}

/** Column names of the Criteo display-ads data: `label`, `I1`…`I13`, `C1`…`C26`. */
export const CRITEO_COLUMNS: readonly string[] = [
  "label",
  ...Array.from({ length: 13 }, (_, i) => `I${i + 1}`),
  ...Array.from({ length: 26 }, (_, i) => `C${i + 1}`),
];

/**
 * Split one line into fields, honouring double quotes.
 * @throws DataFormatError for an unterminated quote or text after a closing quote.
 */
export function splitCsvLine(
  line: string,
  delimiter = ",",
  source = "<csv>",
  lineNo = 0,
): string[] {
  if (!line.includes('"')) return line.split(delimiter);
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (true) {
    if (line[i] === '"') {
      let s = "";
      i++;
      while (true) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          throw new DataFormatError(
            source,
            lineNo,
            `unterminated quoted field starting at column ${i}`,
          );
        }
        s += line.slice(i, q);
        if (line[q + 1] === '"') {
          s += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(s);
      if (i === n) return out;
      if (!line.startsWith(delimiter, i)) {
        throw new DataFormatError(
          source,
          lineNo,
          `expected '${delimiter}' after a closing quote at column ${i + 1}`,
        );
      }
      i += delimiter.length;
    } else {
      const d = line.indexOf(delimiter, i);
      if (d < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, d));
      i = d + delimiter.length;
    }
    if (i === n) {
      out.push("");
      return out;
    }
  }
}

class CsvParser implements LineParser<CsvTable> {
  #source: string;
  #delim: string;
  #header: string[] | undefined;
  #rows: string[][] = [];
  #lines: number[] = [];

  constructor(o: CsvOptions) {
    this.#source = o.source ?? "<csv>";
    this.#delim = o.delimiter ?? ",";
    const h = o.header ?? true;
    if (h !== true) this.#header = [...h];
  }

  push(line: string, no: number): void {
    if (line.length === 0) return;
    const cells = splitCsvLine(line, this.#delim, this.#source, no);
    if (!this.#header) {
      this.#header = cells;
      return;
    }
    if (cells.length !== this.#header.length) {
      throw new DataFormatError(
        this.#source,
        no,
        `expected ${this.#header.length} fields separated by ${
          JSON.stringify(this.#delim)
        }, found ${cells.length}`,
      );
    }
    this.#rows.push(cells);
    this.#lines.push(no);
  }

  finish(): CsvTable {
    if (!this.#header) {
      throw new DataFormatError(this.#source, 0, "empty file (expected a header line)");
    }
    return {
      source: this.#source,
      header: this.#header,
      rows: this.#rows,
      lines: Int32Array.from(this.#lines),
    };
  }
}

/** Parse delimited text. @throws DataFormatError naming the line for a wrong field count or bad quoting. */
export function parseCsv(input: TextInput, options: CsvOptions = {}): CsvTable {
  return runParser(new CsvParser(options), input, options.source);
}

/** Parse delimited text from a (possibly async) stream of lines. */
export function parseCsvStream(lines: LineStream, options: CsvOptions = {}): Promise<CsvTable> {
  return runParserAsync(new CsvParser(options), lines, options.source);
}
