// OLEO data: the MIND path on the MIND-format synthetic sample (MIND itself is not here),
// bad MIND input named by file and line, MovieLens-100K as news (skipped without
// ../shared/data), histories and ApC.
import {
  accuracyPerCost,
  historiesOf,
  isNewsData,
  mindData,
  ml100kNews,
  syntheticMind,
} from "../../../internal.ts";
import { assert } from "../../helpers.ts";

Deno.test("mindData on the synthetic MIND sample: news text, histories, splits", () => {
  const files = syntheticMind({ news: 30, users: 6, topics: 3, impressions: 2, seed: 4 });
  const d = mindData(files, "synthetic-MIND");
  assert.ok(isNewsData(d));
  assert.equal(d.numItems, 30);
  assert.equal(d.numUsers, 6);
  assert.equal(d.itemText.length, 30);
  assert.match(d.itemText[0], /^topic0 sub0\d /);
  assert.equal(d.train.length, 12);
  assert.equal(d.valid.length + d.test.length, 12);
  for (const imp of [...d.train, ...d.valid]) {
    assert.equal(imp.items.length, 5);
    assert.equal(imp.labels.reduce((a, b) => a + b, 0), 1);
  }
  assert.equal(d.history.ptr.length, 7);
  assert.ok(d.history.items.length >= 18);
});

Deno.test("mindData: bad input names the file and the line", () => {
  const f = syntheticMind({ news: 8, users: 2, topics: 2, impressions: 1, seed: 1 });
  const lines = f.train.split("\n");
  // A history id with no news row.
  const noNews = lines.map((l, i) => (i === 1 ? l.replace(/\tN\d+ /, "\tN999 ") : l)).join("\n");
  assert.throws(
    () => mindData({ ...f, train: noNews, names: { train: "train/behaviors.tsv" } }),
    /train\/behaviors\.tsv:2: .*news id 'N999' is not in news\.tsv/,
  );
  // An impression with no click.
  const noClick = lines.map((l, i) => (i === 0 ? l.replace(/-1/g, "-0") : l)).join("\n");
  assert.throws(
    () => mindData({ ...f, train: noClick, names: { train: "train/behaviors.tsv" } }),
    /train\/behaviors\.tsv:1: .*has no clicked news/,
  );
  // A malformed line (a field missing).
  const bad = lines.map((l, i) => (i === 1 ? l.split("\t").slice(0, 4).join("\t") : l)).join(
    "\n",
  );
  assert.throws(
    () => mindData({ ...f, dev: bad, names: { dev: "dev/behaviors.tsv" } }),
    /dev\/behaviors\.tsv:2: .*expected 5 tab-separated fields/,
  );
});

Deno.test("historiesOf: training clicks in order when the data has no histories", () => {
  const h = historiesOf({
    name: "x",
    description: "",
    numUsers: 2,
    numItems: 5,
    train: [
      { user: 1, items: Int32Array.from([3, 4]), labels: Uint8Array.from([1, 0]) },
      { user: 1, items: Int32Array.from([0, 2]), labels: Uint8Array.from([0, 1]) },
    ],
    valid: [],
    test: [],
  });
  assert.deepEqual(Array.from(h.ptr), [0, 0, 2]);
  assert.deepEqual(Array.from(h.items), [3, 2]);
});

Deno.test("accuracyPerCost: (AUC% − 50) / (seconds · watts) · 100", () => {
  assert.equal(accuracyPerCost(0.7, 10, 2), (20 / 20) * 100);
});

const ML = new URL("../../../../shared/data/ml-100k/", import.meta.url);
let haveMl = true;
try {
  await Deno.stat(ML);
} catch {
  haveMl = false;
}

Deno.test({
  name: "ml100kNews: real titles and genres, sessions by time with sampled negatives",
  ignore: !haveMl,
  fn: async () => {
    const d = ml100kNews(
      await Deno.readTextFile(new URL("ml-100k.inter", ML)),
      await Deno.readTextFile(new URL("ml-100k.item", ML)),
    );
    assert.equal(d.numItems, 1682);
    assert.equal(d.numUsers, 943);
    assert.match(d.itemText[0], /^Toy Story Animation Children's Comedy$/);
    for (const imp of [...d.train, ...d.valid, ...d.test].slice(0, 500)) {
      assert.ok(imp.labels.includes(1) && imp.labels.includes(0));
      assert.ok(imp.items.length <= 10);
    }
    assert.ok(d.valid.length > 800 && d.test.length === d.valid.length);
  },
});
if (!haveMl) console.log("ml100kNews test skipped: ../shared/data/ml-100k is absent");
