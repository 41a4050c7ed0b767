/**
 * Data of the CTR and impression tasks from a `--data` spec.
 *
 * - CTR: a CSV file in the Criteo (`label, I1…I13, C1…C26`), Avazu (`id, click, …`) or
 *   MovieLens-with-attributes (`user_id, movie_id, rating, …, genres`) layout, split 8:1:1 by
 *   a fixed seeded shuffle, encoded by a `CtrEncoder` fitted on the training rows; a libFM
 *   folder (`train.libfm`, `test.libfm`, optional `valid.libfm`: src/data/libfm.ts); or
 *   `embedded` / `synthetic:…`: (user, item, history) rows of the synthetic retrieval data, each
 *   interaction a click and one uniformly drawn unseen item a non-click.
 * - Impressions: a MIND folder (`train/` and `dev/` with `behaviors.tsv` and `news.tsv`; the
 *   dev impressions are split in half by time into valid and test), or impressions drawn from
 *   retrieval data (`embedded`, `synthetic:…`, a RecBole/MMRec folder): each interaction is a
 *   click shown beside 9 items the user never interacted with, the user's earlier items its
 *   history. Both carry item text when the data has it (MIND titles; ml-100k movie titles).
 * @module
 */

import { CtrEncoder, type CtrSchema } from "../data/ctr.ts";
import { loadCsv, loadMind } from "../data/files.ts";
import { loadMovieLensCtr } from "../data/ctr_files.ts";
import { isLibfmDir, loadLibfm } from "../data/files.ts";
import { csrHas, type Interactions, userItemCsr } from "../data/types.ts";
import { Rng } from "../random.ts";
import type { CtrSplits } from "../train/ctr.ts";
import type { Impression, ImpressionSplits } from "../train/impression.ts";
import { loadRetrievalData, type RetrievalData } from "./data.ts";

/** The schema of a CTR CSV, from its header. */
export function ctrSchema(header: string[], source: string): CtrSchema {
  const h = new Set(header);
  if (h.has("label") && h.has("I1") && h.has("C1")) {
    return {
      label: "label",
      dense: header.filter((c) => /^I\d+$/.test(c)),
      sparse: header.filter((c) => /^C\d+$/.test(c)),
    };
  }
  if (h.has("click")) {
    return { label: "click", sparse: header.filter((c) => c !== "click" && c !== "id") };
  }
  if (h.has("rating") && h.has("user_id") && h.has("movie_id")) {
    const skip = new Set(["rating", "timestamp", "title", "genres"]);
    return {
      label: "rating",
      sparse: header.filter((c) => !skip.has(c)),
      sequence: h.has("genres") ? [{ name: "genres", sep: "|" }] : [],
    };
  }
  throw new Error(
    `${source}: not a CTR CSV this runner knows (columns: ${header.slice(0, 8).join(", ")}…); ` +
      `expected Criteo (label, I1…I13, C1…C26), Avazu (click, …) or MovieLens ` +
      `(user_id, movie_id, rating, …)`,
  );
}

/** CTR data from a `--data` spec (see the module doc). */
export async function loadCtrData(spec = "embedded", name?: string): Promise<CtrSplits> {
  if (spec === "embedded" || spec.startsWith("synthetic:")) {
    return ctrFromInteractions(await loadRetrievalData(spec, name));
  }
  let isFile = false;
  try {
    isFile = (await Deno.stat(spec)).isFile;
  } catch {
    throw new Error(`data '${spec}' does not exist; the CTR task expects a CSV file or 'embedded'`);
  }
  if (!isFile) {
    if (await isLibfmDir(spec)) return await loadLibfm(spec);
    const ml = await loadMovieLensCtr(spec, name); // RecBole .inter/.item/.user (ml-100k)
    if (ml) return ml;
    throw new Error(
      `data '${spec}' is a folder without <name>.inter/.item/.user or train.libfm; the CTR task ` +
        `expects a CSV file (Criteo, Avazu or MovieLens layout), a MovieLens RecBole folder, a ` +
        `libFM folder or 'embedded'`,
    );
  }
  const table = await loadCsv(spec);
  const schema = ctrSchema(table.header, spec);
  const n = table.rows.length;
  if (n < 10) throw new Error(`${spec}: ${n} data rows; the CTR task needs at least 10`);
  const perm = new Rng(0).shuffle(Int32Array.from({ length: n }, (_, i) => i)) as Int32Array;
  const [a, b] = [Math.floor(0.8 * n), Math.floor(0.9 * n)];
  const part = (lo: number, hi: number) => ({
    ...table,
    rows: Array.from(perm.subarray(lo, hi), (i) => table.rows[i]),
    lines: Int32Array.from(perm.subarray(lo, hi), (i) => table.lines[i]),
  });
  const opts = schema.label === "rating" ? { labelThreshold: 4 } : {};
  const enc = CtrEncoder.fit(part(0, a), schema, opts);
  return {
    name: spec.split("/").pop()!,
    description: `CTR CSV ${spec}: ${n} rows (${a}/${b - a}/${n - b} train/valid/test, seeded ` +
      `shuffle), ${schema.dense?.length ?? 0} dense and ${schema.sparse?.length ?? 0} ` +
      `categorical fields`,
    train: enc.transform(part(0, a)),
    valid: enc.transform(part(a, b)),
    test: enc.transform(part(b, n)),
  };
}

/**
 * CTR rows (user_id, item_id, history) from interactions: each interaction a click and one uniformly
 * drawn item the user never interacted with a non-click, pooled and split 8:1:1 by a seeded
 * shuffle (as CTR sets such as Criteo are split, rather than by time).
 */
function ctrFromInteractions(d: RetrievalData): CtrSplits {
  const x = concat([d.split.train, d.split.valid, d.split.test]);
  const all = userItemCsr(x);
  const rng = new Rng(1);
  const n = x.users.length;
  const sparse = new Int32Array(4 * n);
  const labels = new Float32Array(2 * n);
  // Behaviour history of each interaction: the user's previous (up to 10) items, in the
  // splits' time order (train, valid, test), shared by its click and non-click rows.
  const seen: number[][] = Array.from({ length: x.numUsers }, () => []);
  const hist: Int32Array[] = new Array(n);
  for (let j = 0; j < n; j++) {
    const u = x.users[j];
    hist[j] = Int32Array.from(seen[u].slice(-10));
    seen[u].push(x.items[j]);
    let neg = rng.int(x.numItems);
    for (let t = 0; t < 20 && csrHas(all, u, neg); t++) neg = rng.int(x.numItems);
    sparse.set([u, x.items[j], u, neg], 4 * j);
    labels[2 * j] = 1;
  }
  const perm = rng.shuffle(Int32Array.from({ length: 2 * n }, (_, i) => i)) as Int32Array;
  const part = (lo: number, hi: number) => {
    const rows = perm.subarray(lo, hi);
    const sp = new Int32Array(2 * rows.length);
    rows.forEach((r, i) => sp.set(sparse.subarray(2 * r, 2 * r + 2), 2 * i));
    const indptr = new Int32Array(rows.length + 1);
    rows.forEach((r, i) => (indptr[i + 1] = indptr[i] + hist[r >> 1].length));
    const indices = new Int32Array(indptr[rows.length]);
    rows.forEach((r, i) => indices.set(hist[r >> 1], indptr[i]));
    return {
      numRows: rows.length,
      labels: Float32Array.from(rows, (r) => labels[r]),
      denseNames: [],
      dense: new Float32Array(0),
      sparseNames: ["user_id", "item_id"],
      sparse: sp,
      cardinalities: [x.numUsers, x.numItems],
      sequences: [
        { name: "history", indptr, indices, cardinality: x.numItems, vocabOf: "item_id" },
      ],
    };
  };
  const [a, b] = [Math.floor(0.8 * 2 * n), Math.floor(0.9 * 2 * n)];
  return {
    name: d.name,
    description: `${d.description}; as CTR rows (user_id, item_id, history: the user's previous ` +
      `10 items): each interaction a click, one unseen item a non-click, seeded 8:1:1 split`,
    train: part(0, a),
    valid: part(a, b),
    test: part(b, 2 * n),
  };
}

function concat(xs: Interactions[]): Interactions {
  const n = xs.reduce((s, x) => s + x.users.length, 0);
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  let o = 0;
  for (const x of xs) {
    users.set(x.users, o);
    items.set(x.items, o);
    o += x.users.length;
  }
  return { users, items, numUsers: xs[0].numUsers, numItems: xs[0].numItems };
}

/** Impression data from a `--data` spec (see the module doc). */
export async function loadImpressionData(
  spec = "embedded",
  name?: string,
): Promise<ImpressionSplits> {
  if (spec !== "embedded" && !spec.startsWith("synthetic:")) {
    let mind = false;
    try {
      mind = (await Deno.stat(`${spec}/train/behaviors.tsv`)).isFile;
    } catch { /* not MIND */ }
    if (mind) return mindData(spec);
  }
  return impressionsFromInteractions(await loadRetrievalData(spec, name));
}

async function mindData(dir: string): Promise<ImpressionSplits> {
  const tr = await loadMind(`${dir}/train`);
  const dv = await loadMind(`${dir}/dev`);
  // Separate id spaces: dev ids are mapped into train's by raw id (unknown ones added).
  const news = tr.behaviors.newsIds;
  const users = tr.behaviors.userIds;
  const imps = (b: typeof tr.behaviors, remap: boolean): Impression[] => {
    const out: Impression[] = [];
    for (let r = 0; r < b.users.length; r++) {
      const lo = b.impressionPtr[r];
      const hi = b.impressionPtr[r + 1];
      const items = b.impressions.slice(lo, hi);
      const labels = Uint8Array.from(b.labels.subarray(lo, hi), (y) => (y === 1 ? 1 : 0));
      const user = remap ? users.add(b.userIds.raw(b.users[r])) : b.users[r];
      const hist = b.history.slice(b.historyPtr[r], b.historyPtr[r + 1]);
      const ids = (a: Int32Array) => (remap ? a.map((i) => news.add(b.newsIds.raw(i))) : a);
      out.push({ user, items: ids(items), labels, history: ids(hist) });
    }
    return out;
  };
  const train = imps(tr.behaviors, false);
  const dev = imps(dv.behaviors, true);
  // Titles by the (extended) train news map; dev-only news take theirs from dev's news file.
  const itemText = Array.from({ length: news.size }, (_, i) => {
    const raw = news.raw(i);
    const t = tr.news.ids.get(raw);
    return t >= 0 ? tr.news.titles[t] : dv.news.titles[dv.news.ids.get(raw)] ?? "";
  });
  const half = Math.floor(dev.length / 2);
  return {
    name: dir.split("/").pop()!,
    description: `MIND ${dir}: ${train.length} training impressions, ${dev.length} dev ` +
      `impressions (first half valid, second half test)`,
    numUsers: users.size,
    numItems: news.size,
    train,
    valid: dev.slice(0, half),
    test: dev.slice(half),
    itemText,
  };
}

/** Each interaction as an impression: the item clicked beside 9 never-interacted items. */
function impressionsFromInteractions(d: RetrievalData, shown = 10): ImpressionSplits {
  const { train, valid, test } = d.split;
  const all = userItemCsr(concat([train, valid, test]));
  const rng = new Rng(2);
  // Each user's earlier items (up to 50), in the splits' time order: the impression's history.
  const seen: number[][] = Array.from({ length: train.numUsers }, () => []);
  const imps = (x: Interactions): Impression[] =>
    Array.from(x.users, (u, j) => {
      const history = Int32Array.from(seen[u].slice(-50));
      seen[u].push(x.items[j]);
      const items = new Int32Array(shown);
      const labels = new Uint8Array(shown);
      const at = rng.int(shown);
      for (let k = 0; k < shown; k++) {
        if (k === at) {
          items[k] = x.items[j];
          labels[k] = 1;
          continue;
        }
        let i = rng.int(x.numItems);
        for (let t = 0; t < 20 && csrHas(all, u, i); t++) i = rng.int(x.numItems);
        items[k] = i;
      }
      return { user: u, items, labels, history };
    });
  return {
    name: d.name,
    description: `${d.description}; as impressions: each interaction clicked among ${shown} ` +
      `shown items (the rest never interacted with)`,
    numUsers: train.numUsers,
    numItems: train.numItems,
    train: imps(train),
    valid: imps(valid),
    test: imps(test),
    itemText: d.itemText,
  };
}
