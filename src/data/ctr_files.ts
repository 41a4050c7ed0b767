/**
 * Deno readers of CTR datasets given as folders: MovieLens-100K RecBole atomic files as a CTR
 * task (`movielensCtrTables`). Needs `--allow-read`.
 * @module
 */

import { type CtrData, CtrEncoder, movielensCtrTables } from "./ctr.ts";

/** Train / valid / test CTR tables of a folder, with the folder as `source` (for caches). */
export interface CtrFolder {
  /** Name for reports. */
  name: string;
  /** One line on what it is. */
  description: string;
  /** The folder read (retrieval caches sit next to the data). */
  source: string;
  /** Training rows. */
  train: CtrData;
  /** Validation rows. */
  valid: CtrData;
  /** Test rows. */
  test: CtrData;
}

/**
 * A RecBole folder with `<name>.inter`, `<name>.item` and `<name>.user` (MovieLens-100K) as a
 * CTR task: label rating ≥ 4, time-ordered 8:1:1 (see `movielensCtrTables`), encoded with
 * vocabularies fitted on the training rows. Null when the folder has no such files.
 */
export async function loadMovieLensCtr(dir: string, name?: string): Promise<CtrFolder | null> {
  const stem = name ?? dir.replace(/\/+$/, "").split("/").pop()!;
  const path = (ext: string) => `${dir}/${stem}.${ext}`;
  let texts: string[];
  try {
    texts = await Promise.all(["inter", "item", "user"].map((e) => Deno.readTextFile(path(e))));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const names = ["inter", "item", "user"].map(path) as [string, string, string];
  const ml = movielensCtrTables(texts[0], texts[1], texts[2], { names });
  const enc = CtrEncoder.fit(ml.train, ml.schema, { labelThreshold: 4 });
  const [train, valid, test] = [ml.train, ml.valid, ml.test].map((t) => enc.transform(t));
  const pos = (d: CtrData) => (d.labels.reduce((s, y) => s + y, 0) / d.numRows).toFixed(3);
  return {
    name: stem,
    description: `${stem} as CTR rows (label rating ≥ 4; user, item, gender, age, occupation, ` +
      `zip prefix, genres and a 10-item positive history), time-ordered ` +
      `${train.numRows}/${valid.numRows}/${test.numRows} train/valid/test, positive rate ` +
      `${pos(train)}/${pos(valid)}/${pos(test)}`,
    source: dir,
    train,
    valid,
    test,
  };
}
