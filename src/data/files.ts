/**
 * Thin Deno wrappers that read dataset files from disk and hand them to the pure parsers
 * (which browsers can call on fetched text instead). Need `--allow-read`.
 * @module
 */

import { readNpy, type ReadNpyOptions } from "../io/npy.ts";
import {
  type AtomicInteractionOptions,
  atomicInteractions,
  type AtomicOptions,
  type AtomicTable,
  parseAtomic,
} from "./recbole.ts";
import { checkFeatureRows, type MMRecFields, type MMRecInter, parseMMRecInter } from "./mmrec.ts";
import { type MovieLensOptions, parseMovieLensRatings } from "./movielens.ts";
import {
  type MindBehaviors,
  type MindNews,
  parseMindBehaviorsStream,
  parseMindNews,
} from "./mind.ts";
import { type CsvOptions, type CsvTable, parseCsv } from "./csv.ts";
import { readLines } from "./text.ts";
import { type LibfmOptions, type LibfmSplits, libfmSplits, parseLibfm } from "./libfm.ts";
import { DataFormatError, type Dataset } from "./types.ts";

/** A path inside a folder given as a string or a `file:` URL. */
function join(dir: string | URL, name: string): string | URL {
  if (dir instanceof URL) {
    return new URL(name, dir.href.endsWith("/") ? dir : new URL(dir.href + "/"));
  }
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

async function exists(path: string | URL): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Lines of a text file, streamed (for files too large to read as one string). */
export async function* fileLines(path: string | URL): AsyncGenerator<string> {
  const file = await Deno.open(path);
  yield* readLines(file.readable);
}

/** A RecBole dataset folder: interactions plus the optional `.item` / `.user` tables. */
export interface RecBoleFiles {
  /** Interactions with raw-id maps. */
  dataset: Dataset;
  /** The `.item` table, when present. */
  item?: AtomicTable;
  /** The `.user` table, when present. */
  user?: AtomicTable;
}

/**
 * Read `<dir>/<name>.inter` and, when present, `<name>.item` and `<name>.user` (RecBole atomic
 * files, e.g. `loadRecBole("data/ml-100k", "ml-100k")`).
 */
export async function loadRecBole(
  dir: string | URL,
  name: string,
  options: AtomicOptions & AtomicInteractionOptions = {},
): Promise<RecBoleFiles> {
  const read = async (ext: string) => {
    const p = join(dir, `${name}.${ext}`);
    return parseAtomic(await Deno.readTextFile(p), { ...options, source: String(p) });
  };
  const inter = await read("inter");
  const out: RecBoleFiles = { dataset: atomicInteractions(inter, options) };
  if (await exists(join(dir, `${name}.item`))) out.item = await read("item");
  if (await exists(join(dir, `${name}.user`))) out.user = await read("user");
  return out;
}

/** An MMRec dataset folder: interactions with their split, and item features when present. */
export interface MMRecFiles extends MMRecInter {
  /** `image_feat.npy` as float32 `[numItems × dim]`, when present. */
  imageFeat?: { data: Float32Array; dim: number };
  /** `text_feat.npy` as float32 `[numItems × dim]`, when present. */
  textFeat?: { data: Float32Array; dim: number };
}

async function readFeat(
  path: string | URL,
): Promise<{ data: Float32Array; dim: number; rows: number }> {
  const opts: ReadNpyOptions = { source: String(path), float64ToFloat32: true };
  const a = readNpy(await Deno.readFile(path), opts);
  if (a.dtype !== "f4" || a.shape.length !== 2) {
    throw new Error(
      `${path}: expected a 2-D float array [items, dim], found ${a.dtype} ${
        JSON.stringify(a.shape)
      }`,
    );
  }
  const data = a.data as Float32Array;
  const dim = a.shape[1];
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new Error(
        `${path}: value ${data[i]} at row ${Math.floor(i / dim)}, column ${i % dim} is not ` +
          `finite; item features must be finite numbers`,
      );
    }
  }
  return { data, dim, rows: a.shape[0] };
}

/**
 * Read an MMRec dataset: `<dir>/<name>.inter` plus `image_feat.npy` / `text_feat.npy` when they
 * exist. With features, the item count is their row count and every itemID must be below it.
 */
export async function loadMMRec(
  dir: string | URL,
  name: string,
  fields?: MMRecFields,
): Promise<MMRecFiles> {
  const img = join(dir, "image_feat.npy");
  const txt = join(dir, "text_feat.npy");
  const imageFeat = (await exists(img)) ? await readFeat(img) : undefined;
  const textFeat = (await exists(txt)) ? await readFeat(txt) : undefined;
  if (imageFeat && textFeat && imageFeat.rows !== textFeat.rows) {
    throw new Error(
      `${dir}: image_feat.npy has ${imageFeat.rows} rows but text_feat.npy has ${textFeat.rows}`,
    );
  }
  const rows = imageFeat?.rows ?? textFeat?.rows;
  const p = join(dir, `${name}.inter`);
  const inter = parseMMRecInter(await Deno.readTextFile(p), {
    source: String(p),
    fields,
    numItems: rows,
    numItemsFrom: rows === undefined ? undefined : String(imageFeat ? img : txt),
  });
  if (imageFeat) checkFeatureRows(inter.interactions, imageFeat.rows, String(img));
  if (textFeat) checkFeatureRows(inter.interactions, textFeat.rows, String(txt));
  const out: MMRecFiles = inter;
  if (imageFeat) out.imageFeat = { data: imageFeat.data, dim: imageFeat.dim };
  if (textFeat) out.textFeat = { data: textFeat.data, dim: textFeat.dim };
  return out;
}

/** Read MovieLens `u.data` or `ratings.dat`. */
export async function loadMovieLens(
  path: string | URL,
  options: MovieLensOptions = {},
): Promise<Dataset> {
  return parseMovieLensRatings(await Deno.readTextFile(path), { source: String(path), ...options });
}

/**
 * Read a MIND split folder (`news.tsv`, `behaviors.tsv`), streaming the behaviours (the large
 * file) line by line.
 */
export async function loadMind(
  dir: string | URL,
): Promise<{ news: MindNews; behaviors: MindBehaviors }> {
  const np = join(dir, "news.tsv");
  const news = parseMindNews(await Deno.readTextFile(np), { source: String(np) });
  const bp = join(dir, "behaviors.tsv");
  const behaviors = await parseMindBehaviorsStream(fileLines(bp), {
    source: String(bp),
    news: news.ids,
  });
  return { news, behaviors };
}

/** Read a delimited file (CSV by default). */
export async function loadCsv(path: string | URL, options: CsvOptions = {}): Promise<CsvTable> {
  return parseCsv(await Deno.readTextFile(path), { source: String(path), ...options });
}

// --- libFM folders (the format: src/data/libfm.ts) ---

/** Whether `dir` is a libFM folder (it has `train.libfm`). */
export async function isLibfmDir(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(`${dir}/train.libfm`)).isFile;
  } catch {
    return false;
  }
}

async function readIf(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Loads a libFM folder (`train.libfm`, `test.libfm`, optional `valid.libfm` and `libfm.json`;
 * see the module doc). `opts.numFeatures` overrides the file's declaration.
 */
export async function loadLibfm(dir: string, opts: LibfmOptions = {}): Promise<LibfmSplits> {
  const meta = await readIf(`${dir}/libfm.json`);
  let numFeatures = opts.numFeatures;
  if (meta !== undefined && numFeatures === undefined) {
    let m: unknown;
    try {
      m = JSON.parse(meta);
    } catch (e) {
      throw new DataFormatError(`${dir}/libfm.json`, 0, `not JSON (${(e as Error).message})`);
    }
    const n = (m as { numFeatures?: unknown })?.numFeatures;
    if (!(typeof n === "number" && Number.isSafeInteger(n) && n > 0)) {
      throw new DataFormatError(
        `${dir}/libfm.json`,
        0,
        `numFeatures is ${JSON.stringify(n)}; expected an integer > 0`,
      );
    }
    numFeatures = n;
  }
  const read = async (f: string, required: boolean) => {
    const t = await readIf(`${dir}/${f}`);
    if (t === undefined && required) {
      throw new Error(`libFM data ${dir}: no ${f} (expected train.libfm and test.libfm)`);
    }
    return t === undefined ? undefined : parseLibfm(t, `${dir}/${f}`, numFeatures);
  };
  const train = (await read("train.libfm", true))!;
  const valid = await read("valid.libfm", false);
  const test = (await read("test.libfm", true))!;
  for (const t of [train, test]) {
    if (t.labels.length === 0) throw new DataFormatError(t.source, 0, "no rows");
  }
  return libfmSplits(train, valid, test, dir.replace(/\/+$/, "").split("/").pop()!, {
    ...opts,
    numFeatures,
  });
}
