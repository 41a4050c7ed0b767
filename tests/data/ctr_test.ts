// CTR loader: labels outside {0, 1} refused with file, line and value (issue 15 item 5); the
// MovieLens-100K CTR view (time order, history before the row, shared item vocabulary).
import assert from "node:assert/strict";
import { CtrEncoder, movielensCtrTables, parseCsv } from "../../src/data/mod.ts";

Deno.test("CtrEncoder refuses labels other than 0/1 with the file, line and value", () => {
  const t = parseCsv("label,c\n1,a\n0,b\n2,a\n", { source: "clicks.csv" });
  const enc = CtrEncoder.fit(t, { label: "label", sparse: ["c"] });
  assert.throws(() => enc.transform(t), /clicks\.csv:4: label 'label' must be 0 or 1, found '2'/);
  for (const v of ["-1", "0.5", "1e0x", "NaN"]) {
    const u = parseCsv(`label,c\n0,a\n${v},a\n`, { source: "u.csv" });
    assert.throws(() => enc.transform(u), /u\.csv:3: label 'label' must be/, v);
  }
  // With a threshold, ratings binarise and any number passes.
  const r = parseCsv("label,c\n5,a\n3,b\n4,a\n", { source: "r.csv" });
  const e2 = CtrEncoder.fit(r, { label: "label", sparse: ["c"] }, { labelThreshold: 4 });
  assert.deepEqual([...e2.transform(r).labels], [1, 0, 1]);
  assert.deepEqual([...enc.transform(parseCsv("label,c\n1.0,a\n0,b\n")).labels], [1, 0]);
});

Deno.test("movielensCtrTables: time-ordered 8:1:1, history strictly before, shared vocabulary", () => {
  const inter = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n" +
    [
      [1, 10, 5, 100],
      [1, 11, 2, 50],
      [2, 10, 4, 60],
      [1, 12, 4, 200],
      [2, 11, 5, 300],
      [1, 10, 1, 400],
      [2, 12, 3, 500],
      [1, 11, 4, 600],
      [2, 10, 4, 700],
      [1, 12, 5, 800],
    ].map((r) => r.join("\t")).join("\n") + "\n";
  const item = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n" +
    "10\tA\t1990\tComedy Drama\n11\tB\t1991\tAction\n12\tC\t1992\tDrama\n";
  const user = "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n" +
    "1\t24\tM\ttech\t85711\n2\t53\tF\tother\t94043\n";
  const ml = movielensCtrTables(inter, item, user);
  assert.deepEqual([ml.train.rows.length, ml.valid.rows.length, ml.test.rows.length], [8, 1, 1]);
  const h = ml.train.header;
  const at = (row: string[], name: string) => row[h.indexOf(name)];
  // First by time: (1, 11) at 50, then (2, 10) at 60, then (1, 10) at 100.
  assert.deepEqual(ml.train.rows.slice(0, 3).map((r) => at(r, "item_id")), ["11", "10", "10"]);
  assert.equal(at(ml.train.rows[2], "history"), ""); // user 1 had only a 2-star rating before
  assert.equal(at(ml.train.rows[3], "history"), "10"); // (1, 12) at 200 after (1, 10) 5 stars
  assert.equal(at(ml.train.rows[0], "zip"), "857");
  const enc = CtrEncoder.fit(ml.train, ml.schema, { labelThreshold: 4 });
  const d = enc.transform(ml.train);
  const hist = d.sequences.find((s) => s.name === "history")!;
  assert.equal(hist.vocabOf, "item_id");
  assert.equal(hist.cardinality, d.cardinalities[d.sparseNames.indexOf("item_id")]);
  // The history id of row 3 is the item id of row 2 (same vocabulary).
  const ii = d.sparseNames.indexOf("item_id");
  assert.equal(hist.indices[hist.indptr[3]], d.sparse[2 * d.sparseNames.length + ii]);
  assert.throws(
    () => movielensCtrTables(inter + "3\t10\t4\t900\n", item, user),
    /ml-100k\.inter:12: user '3' is not in ml-100k\.user/,
  );
});
