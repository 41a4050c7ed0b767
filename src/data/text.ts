/**
 * Line plumbing shared by the text parsers: every parser consumes lines one at a time, so it
 * works on a whole string or byte array (sync) and on a stream of lines (async, for files too
 * large to hold as one string). Browser-safe.
 * @module
 */

import { DataFormatError } from "./types.ts";

/** Text given to a parser: a string, UTF-8 bytes, or an iterable of lines. */
export type TextInput = string | Uint8Array | Iterable<string>;

/** Lines given to a streaming parser. */
export type LineStream = AsyncIterable<string> | Iterable<string>;

/** A line-by-line parser: feed it lines (1-based numbers), then take the result. */
export interface LineParser<T> {
  /** Consume one line (without its line terminator). */
  push(line: string, lineNo: number): void;
  /** Validate the end of input and return the parsed result. */
  finish(): T;
}

/** Split text into lines, dropping `\r` before `\n` and a final empty line. */
export function* splitLines(text: string): Generator<string> {
  let start = 0;
  const n = text.length;
  // A byte-order mark is not part of the first field.
  if (text.charCodeAt(0) === 0xfeff) start = 1;
  while (start < n) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = n;
    const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    yield text.slice(start, stop);
    start = end + 1;
  }
}

function linesOf(input: TextInput): Iterable<string> {
  if (typeof input === "string") return splitLines(input);
  if (input instanceof Uint8Array) return splitLines(new TextDecoder().decode(input));
  return input;
}

// A carriage return left inside a line: the file breaks lines with CR alone (classic Mac), so
// the whole file would read as one line. Say so instead of parsing it as data.
function checkLine(line: string, no: number, source: string): void {
  const cr = line.indexOf("\r");
  if (cr >= 0) {
    throw new DataFormatError(
      source,
      no,
      `carriage return (CR) inside the line at column ${cr + 1}: the file seems to use ` +
        `CR-only line breaks; convert it to LF (or CRLF) line endings`,
    );
  }
}

/** Run a {@link LineParser} over a whole input (`source` names it in errors). */
export function runParser<T>(parser: LineParser<T>, input: TextInput, source = "<input>"): T {
  let no = 0;
  for (const line of linesOf(input)) {
    checkLine(line, ++no, source);
    parser.push(line, no);
  }
  return parser.finish();
}

/** Run a {@link LineParser} over a (possibly async) stream of lines. */
export async function runParserAsync<T>(
  parser: LineParser<T>,
  lines: LineStream,
  source = "<input>",
): Promise<T> {
  let no = 0;
  for await (const line of lines) {
    checkLine(line, ++no, source);
    parser.push(line, no);
  }
  return parser.finish();
}

/**
 * Lines of a byte stream (e.g. `(await fetch(url)).body` or a Deno file's `readable`), decoded
 * as UTF-8, without terminators, `\r\n` tolerated.
 */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  // A TextDecoder in stream mode (rather than TextDecoderStream) keeps multi-byte characters
  // split across chunks intact and type-checks under both the DOM and Deno libs.
  const reader = stream.getReader();
  const dec = new TextDecoder();
  let buf = "";
  let first = true;
  let finished = false;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) {
        finished = true;
        buf += dec.decode();
        break;
      }
      buf += dec.decode(value, { stream: true });
      if (first && buf.charCodeAt(0) === 0xfeff) buf = buf.slice(1);
      first = false;
      let start = 0;
      let nl: number;
      while ((nl = buf.indexOf("\n", start)) >= 0) {
        const stop = nl > start && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        yield buf.slice(start, stop);
        start = nl + 1;
      }
      buf = buf.slice(start);
    }
    if (buf.length > 0) yield buf.endsWith("\r") ? buf.slice(0, -1) : buf;
  } finally {
    // Stopped early (break in the consumer, or an error): cancel so the source (a file) closes.
    if (!finished) await reader.cancel();
    reader.releaseLock();
  }
}

/** Parse a finite number; `undefined` when the text is not one (so callers can report it). */
export function parseNumber(text: string): number | undefined {
  // Number("") and Number(" ") are 0, which would hide a missing value.
  if (text.trim().length === 0) return undefined;
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

/** Parse a non-negative integer id; -1 when the text is not one. */
export function parseIndex(text: string): number {
  if (!/^\d+$/.test(text)) return -1;
  const v = Number(text);
  return v <= 2147483647 ? v : -1;
}
