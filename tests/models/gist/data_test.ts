// GIST's cross-domain data: the two-domain generator is deterministic and plants (or not)
// transferable structure; ml-100k's genre split has disjoint domains, shared users, and no
// source engagement after the training cut-off in the lifelong sequences. The incremental
// update refreshes the export without touching the target model.
import { ml100kCrossDomain } from "../../../src/models/gist/files.ts";
import assert from "node:assert/strict";
import { gpuTest } from "../../helpers.ts";
import { readAll } from "../../../src/tensor.ts";
import { csrRow, syntheticTwoDomain, toCsr } from "../../../src/models/gist/data.ts";
import { SourceModel, trainSource, updateSource } from "../../../src/models/gist/source.ts";
import { Gist } from "../../../src/models/gist/model.ts";

// Share of a user's target clicks on their most frequent source topic's items (topic = id % T).
function topicAgreement(plant: boolean, seed: number): number {
  const T = 8;
  const cd = syntheticTwoDomain({ plant, seed, topics: T });
  const tr = cd.target.train;
  let hit = 0;
  let n = 0;
  for (let r = 0; r < tr.numRows; r++) {
    if (tr.labels[r] !== 1) continue;
    const u = tr.sparse[2 * r];
    const counts = new Array(T).fill(0);
    for (const s of csrRow(cd.sourceSeq, u)) counts[s % T]++;
    const top = counts.indexOf(Math.max(...counts));
    hit += tr.sparse[2 * r + 1] % T === top ? 1 : 0;
    n++;
  }
  return hit / n;
}

Deno.test("GIST two-domain generator: deterministic, planted structure transfers, none does not", () => {
  const a = syntheticTwoDomain({ seed: 3 });
  const b = syntheticTwoDomain({ seed: 3 });
  assert.deepEqual(a.target.train.sparse, b.target.train.sparse);
  assert.deepEqual(a.sourceSeq.indices, b.sourceSeq.indices);
  assert.notDeepEqual(syntheticTwoDomain({ seed: 4 }).sourceSeq.indices, a.sourceSeq.indices);
  assert.equal(a.text.indptr.length, a.sourceItems + a.targetItems + 1);
  assert.equal(a.sourceSeq.indptr[a.users], 300 * 108);
  assert.equal(a.newSource.indptr[a.users], 300 * 12);
  for (const seed of [0, 1, 2]) {
    const planted = topicAgreement(true, seed);
    const none = topicAgreement(false, seed);
    // Planted: ~8/15 of clicks on the top source topic; none: about chance (1/8 + noise).
    assert.ok(planted > 0.4, `seed ${seed}: planted agreement ${planted}`);
    assert.ok(none < 0.25, `seed ${seed}: no-structure agreement ${none}`);
  }
});

Deno.test("GIST ml-100k genres as domains: disjoint items, shared users, no leakage", async () => {
  const cd = await ml100kCrossDomain("../shared/data/ml-100k");
  assert.equal(cd.sourceItems + cd.targetItems, 1682);
  assert.equal(cd.users, 943);
  const rows = (d: typeof cd.target.train) => d.numRows;
  const n = rows(cd.target.train) + rows(cd.target.valid) + rows(cd.target.test);
  assert.ok(n > 25000 && n < 35000, `${n} Comedy ratings`);
  for (const s of cd.sourceSeq.indices) assert.ok(s >= 0 && s < cd.sourceItems);
  // Each row sees a prefix of its user's time-ordered source history (the ratings before it),
  // never shrinking along time (train, valid, test rows are in time order).
  const t = cd.target;
  const seen = new Int32Array(cd.users);
  let withSrc = 0;
  for (
    const [d, lim] of [[t.train, cd.limits!.train], [t.valid, cd.limits!.valid], [
      t.test,
      cd.limits!.test,
    ]] as const
  ) {
    assert.equal(lim.length, d.numRows);
    for (let r = 0; r < d.numRows; r++) {
      const u = d.sparse[2 * r];
      assert.ok(lim[r] >= seen[u] && lim[r] <= cd.searchSeq.indptr[u + 1] - cd.searchSeq.indptr[u]);
      seen[u] = lim[r];
      if (d === t.test && lim[r] > 0) withSrc++;
    }
  }
  // Overlapping users: most test rows have source ratings before them.
  assert.ok(
    withSrc / t.test.numRows > 0.5,
    `${withSrc}/${t.test.numRows} test rows with source history`,
  );
  assert.ok(cd.newSource.indices.length > 0, "later source ratings form the new data");
  await assert.rejects(
    () => ml100kCrossDomain("../shared/data/ml-100k", { targetGenre: "Comedie" }),
    /no movie has genre 'Comedie'/,
  );
});

gpuTest("GIST incremental update: export refreshed, target parameters untouched", async () => {
  const cd = syntheticTwoDomain({ users: 30, sourceItems: 24, targetItems: 12, sourceLength: 20 });
  const src = new SourceModel(cd.sourceItems, cd.targetItems, cd.words, cd.text, {
    dim: 8,
    wordDim: 8,
  });
  const loss = await trainSource(src, cd, { epochs: 1, batchSize: 64 });
  assert.ok(Number.isFinite(loss), `source loss ${loss}`);
  const before = await src.exportTable();
  const gist = new Gist(cd.users, cd.sourceItems, cd.targetItems, 8, {
    topK: 4,
    embeddingDim: 4,
    attentionDim: 4,
    dnnHidden: [8],
  });
  gist.setSource(before, cd.sourceSeq);
  await gist.prepare([cd.target.test]);
  const r0 = gist.retrievedOf(cd.target.test)!.slice();
  const params0 = await readAll(gist.parameters());
  const up = await updateSource(src, cd, cd.newSource, { batchSize: 64 });
  assert.notDeepEqual(up.table.data, before.data, "the export changed");
  assert.equal(
    up.sourceSeq.indptr[cd.users],
    cd.sourceSeq.indptr[cd.users] + cd.newSource.indptr[cd.users],
  );
  gist.setSource(up.table, up.sourceSeq);
  assert.equal(gist.retrievedOf(cd.target.test), undefined, "old searches forgotten");
  await gist.prepare([cd.target.test]);
  const r1 = gist.retrievedOf(cd.target.test)!;
  assert.equal(r1.length, r0.length);
  // The searches follow the new export and sequences; the target weights are bit-identical.
  assert.notDeepEqual(r1, r0, "retrieval changed with the refreshed export");
  const params1 = await readAll(gist.parameters());
  params0.forEach((p, i) => assert.deepEqual(params1[i], p));
  gist.dispose();
  src.dispose();
  assert.deepEqual(toCsr([[1, 2], []]), {
    indptr: Int32Array.from([0, 2, 2]),
    indices: Int32Array.from([1, 2]),
  });
});
