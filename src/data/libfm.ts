/**
 * The libFM sparse format (`label idx:val idx:val …`, one row a line), the format several public
 * CTR benchmarks ship in (Frappe, MovieLens-tag, Criteo/Avazu libSVM dumps), as CTR rows for the
 * CTR task (`deno task train --model fm --data DIR`).
 *
 * A folder holds `train.libfm`, `test.libfm` and optionally `valid.libfm`; without it a fixed
 * seeded 10% of the training rows is held out for early stopping (the rest trains). An optional
 * `libfm.json` (`{"numFeatures": N}`) declares the size of the feature index space.
 *
 * - **Labels**: 1 is a click; 0 and -1 are not (libFM writes binary targets as -1/1). Any other
 *   label is refused, naming file and line.
 * - **Features**: indices are non-negative integers (0- or 1-based alike: they are tokens); an
 *   index ≥ the declared `numFeatures` is refused. Values must be 1: the CTR feature layer
 *   embeds ids, so a real-valued feature has no meaning here and is refused rather than
 *   silently binarised.
 * - **Fields**: when every line of every file has the same number F of features, the j-th
 *   feature of a line is field `f{j}` (the layout of the one-hot benchmarks, one feature per
 *   field, as FuxiCTR reads them): F categorical fields, each with its own vocabulary. Otherwise
 *   the row's features form one multi-value field `features` (pooled by the feature layer), so
 *   FM's pairwise terms see that bag as one field, not its members.
 * - **Vocabularies** are fitted on the training rows (index 0 of each is the out-of-vocabulary
 *   bucket, which valid/test features unseen in training fall into).
 * @module
 */

import { Rng } from "../random.ts";
import type { CtrData } from "./ctr.ts";
import { DataFormatError } from "./types.ts";

/** Rows of one libFM file, before encoding. */
export interface LibfmRows {
  /** File name, for errors. */
  source: string;
  /** 0/1 label of each row. */
  labels: Float32Array;
  /** Row start offsets into `features`, length rows + 1. */
  indptr: Int32Array;
  /** Feature indices, concatenated, in line order. */
  features: Int32Array;
  /** 1-based line number of each row. */
  lines: Int32Array;
}

/**
 * Parses libFM text (see the module doc); `numFeatures`, when given, bounds every index.
 * Blank lines and `#` comment lines are skipped.
 */
export function parseLibfm(text: string, source: string, numFeatures?: number): LibfmRows {
  const labels: number[] = [];
  const indptr: number[] = [0];
  const features: number[] = [];
  const lines: number[] = [];
  const all = text.split("\n");
  for (let l = 0; l < all.length; l++) {
    const line = all[l].trim();
    if (line === "" || line.startsWith("#")) continue;
    const at = l + 1;
    const toks = line.split(/\s+/);
    const y = Number(toks[0]);
    if (toks[0] === "" || !(y === 1 || y === 0 || y === -1)) {
      throw new DataFormatError(
        source,
        at,
        `label '${toks[0]}'; expected 1 (click), 0 or -1 (no click; libFM writes -1/1)`,
      );
    }
    labels.push(y === 1 ? 1 : 0);
    for (let t = 1; t < toks.length; t++) {
      const m = /^(\d+):(.+)$/.exec(toks[t]);
      if (!m) {
        throw new DataFormatError(
          source,
          at,
          `feature ${t} is '${toks[t]}'; expected idx:val with idx an integer ≥ 0`,
        );
      }
      const idx = Number(m[1]);
      const val = Number(m[2]);
      if (!Number.isSafeInteger(idx) || (numFeatures !== undefined && idx >= numFeatures)) {
        throw new DataFormatError(
          source,
          at,
          `feature index ${m[1]} (feature ${t}) is past the declared size: expected ` +
            `0 ≤ idx < ${numFeatures ?? Number.MAX_SAFE_INTEGER} (libfm.json numFeatures)`,
        );
      }
      if (val !== 1) {
        throw new DataFormatError(
          source,
          at,
          `feature ${idx} has value '${m[2]}'; expected 1 (the CTR feature layer embeds ids: ` +
            `binary one-hot features only)`,
        );
      }
      features.push(idx);
    }
    indptr.push(features.length);
    lines.push(at);
  }
  return {
    source,
    labels: Float32Array.from(labels),
    indptr: Int32Array.from(indptr),
    features: Int32Array.from(features),
    lines: Int32Array.from(lines),
  };
}

/** Rows `pick` of `r` (a new table). */
function subset(r: LibfmRows, pick: ArrayLike<number>): LibfmRows {
  const indptr = new Int32Array(pick.length + 1);
  const features: number[] = [];
  for (let j = 0; j < pick.length; j++) {
    const i = pick[j];
    for (let k = r.indptr[i]; k < r.indptr[i + 1]; k++) features.push(r.features[k]);
    indptr[j + 1] = features.length;
  }
  return {
    source: r.source,
    labels: Float32Array.from(pick, (i) => r.labels[i]),
    indptr,
    features: Int32Array.from(features),
    lines: Int32Array.from(pick, (i) => r.lines[i]),
  };
}

/** The common feature count of every row of `tables`, or -1 when rows differ (or have none). */
export function fixedFieldCount(tables: readonly LibfmRows[]): number {
  let f = -2;
  for (const t of tables) {
    for (let r = 0; r + 1 < t.indptr.length; r++) {
      const n = t.indptr[r + 1] - t.indptr[r];
      if (f === -2) f = n;
      else if (n !== f) return -1;
    }
  }
  return f > 0 ? f : -1;
}

/** Encoded splits of libFM data (the shape of the CTR task's `CtrSplits`). */
export interface LibfmSplits {
  /** Name for reports. */
  name: string;
  /** One line on what it is. */
  description: string;
  /** Training rows. */
  train: CtrData;
  /** Validation rows. */
  valid: CtrData;
  /** Test rows. */
  test: CtrData;
}

/** Options of {@link libfmSplits} and {@link loadLibfm}. */
export interface LibfmOptions {
  /** Declared feature index space (indices ≥ it are refused). Default: not checked. */
  numFeatures?: number;
  /** Share of training rows held out when there is no valid file. Default 0.1. */
  validFraction?: number;
  /** Seed of that hold-out's shuffle. Default 0. */
  seed?: number;
}

/**
 * Encodes parsed train/valid/test rows (valid may be absent: see {@link LibfmOptions}) into
 * CTR tables with the field layout of the module doc.
 */
export function libfmSplits(
  train: LibfmRows,
  valid: LibfmRows | undefined,
  test: LibfmRows,
  name: string,
  opts: LibfmOptions = {},
): LibfmSplits {
  let note = "valid.libfm";
  if (!valid) {
    const n = train.labels.length;
    const nv = Math.floor((opts.validFraction ?? 0.1) * n);
    if (n - nv < 1 || nv < 1) {
      throw new DataFormatError(
        train.source,
        0,
        `${n} rows; holding out ${opts.validFraction ?? 0.1} of them for validation needs at ` +
          `least one row on each side (or give valid.libfm)`,
      );
    }
    const perm = new Rng(opts.seed ?? 0).shuffle(Int32Array.from({ length: n }, (_, i) => i));
    valid = subset(train, (perm as Int32Array).subarray(0, nv));
    train = subset(train, (perm as Int32Array).subarray(nv));
    note = `${nv} training rows held out (seeded shuffle)`;
  }
  const f = fixedFieldCount([train, valid, test]);
  const names = f > 0 ? Array.from({ length: f }, (_, j) => `f${j}`) : ["features"];
  // One vocabulary per field (bag layout: one for the bag), fitted on the training rows.
  const vocabs = names.map(() => new Map<number, number>());
  const fieldOf = (k: number) => (f > 0 ? k % f : 0);
  for (let k = 0; k < train.features.length; k++) {
    const v = vocabs[fieldOf(k)];
    if (!v.has(train.features[k])) v.set(train.features[k], v.size + 1);
  }
  const encode = (r: LibfmRows): CtrData => {
    const rows = r.labels.length;
    const ids = Int32Array.from(r.features, (x, k) => vocabs[fieldOf(k)].get(x) ?? 0);
    const base = {
      numRows: rows,
      labels: r.labels,
      denseNames: [],
      dense: new Float32Array(0),
    };
    if (f > 0) {
      return {
        ...base,
        sparseNames: names,
        sparse: ids,
        cardinalities: vocabs.map((v) => v.size + 1),
        sequences: [],
      };
    }
    return {
      ...base,
      sparseNames: [],
      sparse: new Int32Array(0),
      cardinalities: [],
      sequences: [{
        name: "features",
        indptr: r.indptr,
        indices: ids,
        cardinality: vocabs[0].size + 1,
      }],
    };
  };
  const layout = f > 0 ? `${f} one-hot fields` : "one multi-value field (feature counts vary)";
  return {
    name,
    description: `libFM ${name}: ${train.labels.length}/${valid.labels.length}/` +
      `${test.labels.length} train/valid/test rows (${note}), ${layout}, ` +
      `${vocabs.reduce((s, v) => s + v.size, 0)} training features`,
    train: encode(train),
    valid: encode(valid),
    test: encode(test),
  };
}
