// Checks on real public data kept outside the repository in ../shared/data (see its README);
// skipped with a message when that folder is absent.
import assert from "node:assert/strict";
import {
  alignRows,
  binarize,
  chronologicalSplit,
  criteoSchema,
  csrRows,
  CtrEncoder,
  encodeTokenSeqColumn,
  itemCounts,
  userItemCsr,
} from "../../src/data/mod.ts";
import { loadCsv, loadRecBole } from "../../src/files.ts";
import { rankingMetrics } from "../../src/metrics/ranking.ts";
import { topKShared } from "../../src/metrics/topk.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);

function present(): boolean {
  try {
    return Deno.statSync(DATA).isDirectory;
  } catch {
    return false;
  }
}

const ignore = !present();
if (ignore) {
  console.log(
    `real_data_test: skipped, ${DATA.pathname} is absent (real datasets live beside the repository)`,
  );
}

Deno.test({
  name: "ml-100k (RecBole atomic): binarise ≥4, chronological 8:1:1, popularity baseline metrics",
  ignore,
  fn: async () => {
    const { dataset, item, user } = await loadRecBole(new URL("ml-100k/", DATA), "ml-100k");
    const x = dataset.interactions;
    assert.equal(x.users.length, 100000);
    assert.equal(x.numUsers, 943);
    assert.equal(x.numItems, 1682);
    assert.equal(user!.numRows, 943);
    assert.equal(item!.numRows, 1682);
    const rows = alignRows(item!, "item_id", dataset.itemIds);
    assert.ok(rows.every((r) => r >= 0), "every rated movie has an .item row");
    const genres = encodeTokenSeqColumn(item!, "class", { rows });
    assert.ok(
      genres.vocab.size >= 18 && genres.vocab.size <= 21,
      `genre vocabulary ${genres.vocab.size}`,
    );

    const pos = binarize(x, 4);
    assert.equal(pos.users.length, 55375);
    const { train, valid, test } = chronologicalSplit(pos);
    assert.equal(train.users.length + valid.users.length + test.users.length, 55375);
    assert.ok(test.users.length > 0.09 * 55375 && test.users.length < 0.11 * 55375);
    // Test interactions are each user's latest.
    const lastTrain = new Float64Array(x.numUsers).fill(-Infinity);
    for (let i = 0; i < train.users.length; i++) {
      lastTrain[train.users[i]] = Math.max(lastTrain[train.users[i]], train.timestamps![i]);
    }
    for (let i = 0; i < test.users.length; i++) {
      assert.ok(test.timestamps![i] >= lastTrain[test.users[i]]);
    }

    const hist = userItemCsr(train);
    const top = topKShared(itemCounts(train), x.numUsers, 20, hist);
    const m = rankingMetrics(top, csrRows(userItemCsr(test)), [10, 20]);
    console.log(
      `ml-100k popularity: Recall@20 ${m["recall@20"].toFixed(4)}, NDCG@20 ${
        m["ndcg@20"].toFixed(4)
      } over ${m.users} users`,
    );
    for (const k of ["recall@20", "ndcg@20", "recall@10", "ndcg@10"]) {
      assert.ok(m[k] > 0 && m[k] < 0.5, `${k} = ${m[k]}`);
    }
  },
});

Deno.test({
  name: "CTR samples (Criteo, Avazu, MovieLens): row and field counts, encoding",
  ignore,
  fn: async () => {
    const dir = new URL("ctr-samples/", DATA);
    const criteo = await loadCsv(new URL("criteo_sample.txt", dir));
    assert.equal(criteo.rows.length, 200);
    assert.equal(criteo.header.length, 40);
    const c = CtrEncoder.fit(criteo, criteoSchema()).transform(criteo);
    assert.equal(c.denseNames.length, 13);
    assert.equal(c.sparseNames.length, 26);
    assert.equal(c.labels.reduce((a, b) => a + b, 0), 49);
    assert.ok(c.dense.every(Number.isFinite));
    const cb = CtrEncoder.fit(criteo, criteoSchema(true), { minCount: 2 }).transform(criteo);
    assert.equal(cb.sparseNames.length, 39);
    assert.ok(cb.cardinalities.every((k) => k >= 1 && k <= 201));

    const avazu = await loadCsv(new URL("avazu_sample.txt", dir));
    assert.equal(avazu.rows.length, 100);
    assert.equal(avazu.header.length, 24);
    const sparse = avazu.header.filter((h) => h !== "id" && h !== "click");
    const a = CtrEncoder.fit(avazu, { label: "click", sparse }).transform(avazu);
    assert.equal(a.sparseNames.length, 22);
    assert.equal(a.labels.reduce((s, v) => s + v, 0), 20);

    const ml = await loadCsv(new URL("movielens_sample.txt", dir));
    assert.equal(ml.rows.length, 200);
    assert.equal(ml.header.length, 10);
    assert.ok(
      ml.rows.some((r) => r[4] === "Bridges of Madison County, The (1995)"),
      "quoted title with a comma",
    );
    const e = CtrEncoder.fit(ml, {
      label: "rating",
      sparse: ["user_id", "movie_id", "gender", "age", "occupation", "zip"],
      sequence: [{ name: "genres", sep: "|" }],
    }, { labelThreshold: 4 }).transform(ml);
    assert.equal(e.labels.reduce((s, v) => s + v, 0), 113);
    assert.equal(e.sequences[0].cardinality, 18); // 17 genres + OOV
    assert.equal(e.sequences[0].indptr[200], e.sequences[0].indices.length);
  },
});
