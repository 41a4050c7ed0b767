// RAT's data path: the 10-fold protocol (a training row never retrieves a row of its own fold,
// so never itself), valid rows query the whole training set, results equal a CPU reference,
// and batches carry [MASK] for targets, the retrieved rows' labels, and masked missing rows.
import assert from "node:assert/strict";
import { gpuTest } from "../../helpers.ts";
import type { CtrData } from "../../../src/data/ctr.ts";
import { featureSpecs } from "../../../src/nn/features.ts";
import { foldIds, ratInput, retrieveSplits } from "../../../src/models/rat/data.ts";
import { Rng } from "../../../src/random.ts";

function table(n: number, vocab: number[], seed: number): CtrData {
  const r = new Rng(seed);
  return {
    numRows: n,
    labels: Float32Array.from({ length: n }, () => r.u32() % 2),
    denseNames: [],
    dense: new Float32Array(0),
    sparseNames: vocab.map((_, f) => `f${f}`),
    sparse: Int32Array.from(
      { length: n * vocab.length },
      (_, i) => r.u32() % vocab[i % vocab.length],
    ),
    cardinalities: vocab,
    sequences: [],
  };
}

/** CPU reference: IDF over the DB, exact-match sums, top-k with ties to the lower row. */
function reference(q: CtrData, db: CtrData, k: number, skip: (i: number, j: number) => boolean) {
  const F = db.cardinalities.length;
  const cnt = db.cardinalities.map((v) => new Int32Array(v));
  for (let r = 0; r < db.numRows; r++) for (let f = 0; f < F; f++) cnt[f][db.sparse[r * F + f]]++;
  const out: number[][] = [];
  for (let i = 0; i < q.numRows; i++) {
    const s: [number, number][] = [];
    for (let j = 0; j < db.numRows; j++) {
      if (skip(i, j)) continue;
      let v = 0;
      for (let f = 0; f < F; f++) {
        const id = q.sparse[i * F + f];
        if (id === db.sparse[j * F + f]) v += Math.fround(Math.log(db.numRows / cnt[f][id]));
      }
      if (v > 1e-6) s.push([v, j]);
    }
    s.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    out.push(s.slice(0, k).map((x) => x[1]));
  }
  return out;
}

gpuTest(
  "retrieveSplits: 10-fold self-exclusion on train, whole DB for valid, = CPU reference",
  async () => {
    const vocab = [5, 3, 7];
    const train = table(97, vocab, 1);
    const valid = table(13, vocab, 2);
    const folds = foldIds(97, 10, 2021);
    const sizes = new Map<number, number>();
    folds.forEach((g) => sizes.set(g, (sizes.get(g) ?? 0) + 1));
    assert.equal(sizes.size, 10);
    assert.ok([...sizes.values()].every((n) => n === 9 || n === 10));
    const [rt, rv] = await retrieveSplits(train, [valid], {
      k: 4,
      folds: 10,
      seed: 2021,
      queryBlock: 29,
    });
    const refT = reference(train, train, 4, (i, j) => folds[i] === folds[j]);
    const refV = reference(valid, train, 4, () => false);
    for (let i = 0; i < 97; i++) {
      const got = [...rt.indices.subarray(i * 4, i * 4 + rt.lens[i])];
      assert.deepEqual(got, refT[i], `train row ${i}`);
      assert.ok(got.every((j) => folds[j] !== folds[i]), `row ${i} retrieved its own fold`);
      assert.ok([...rt.indices.subarray(i * 4 + rt.lens[i], i * 4 + 4)].every((j) => j === -1));
    }
    for (let i = 0; i < 13; i++) {
      assert.deepEqual(
        [...rv.indices.subarray(i * 4, i * 4 + rv.lens[i])],
        refV[i],
        `valid row ${i}`,
      );
    }
  },
);

Deno.test("ratInput: target first with [MASK], retrieved labels, missing rows filled and counted", () => {
  const train = table(6, [4, 4], 3);
  const valid = table(2, [4, 4], 4);
  const ret = { k: 2, indices: Int32Array.from([4, 1, 3, -1]), lens: Int32Array.from([2, 1]) };
  const specs = featureSpecs(train);
  const inp = ratInput(specs, valid, [1, 0], ret, train);
  assert.deepEqual([...inp.lens], [1, 2]);
  assert.deepEqual([...inp.labelIds], [2, train.labels[3], 0, 2, train.labels[4], train.labels[1]]);
  const row = (b: number) => [...inp.rows.categorical.subarray(b * 2, b * 2 + 2)];
  assert.deepEqual(row(0), [...valid.sparse.subarray(2, 4)]);
  assert.deepEqual(row(1), [...train.sparse.subarray(6, 8)]);
  assert.deepEqual(row(2), row(0)); // the missing row holds the target's ids (masked)
  assert.deepEqual(row(4), [...train.sparse.subarray(8, 10)]);
  assert.deepEqual([...inp.labels], [valid.labels[1], valid.labels[0]]);
});
