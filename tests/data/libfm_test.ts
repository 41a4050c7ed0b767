// libFM loader (issue 16 item 4): parsing (labels -1/0/1, comments, lines), clear errors naming
// file and line, the field layouts (fixed count → one-hot fields, else one bag), training-fitted
// vocabularies with OOV, the 10% hold-out without valid.libfm, and the fixture folder.
import assert from "node:assert/strict";
import fc from "npm:fast-check@3";
import { fixedFieldCount, libfmSplits, parseLibfm } from "../../src/data/mod.ts";
import { loadLibfm } from "../../src/data/files.ts";

const dir = new URL("./libfm", import.meta.url).pathname;

Deno.test("libFM: labels, features and line numbers", () => {
  const r = parseLibfm("# header\n1 3:1 7:1\n\n-1 2:1 9:1\n0 3:1 8:1\n+1 0:1 7:1\n", "a.libfm");
  assert.deepEqual(Array.from(r.labels), [1, 0, 0, 1]);
  assert.deepEqual(Array.from(r.indptr), [0, 2, 4, 6, 8]);
  assert.deepEqual(Array.from(r.features), [3, 7, 2, 9, 3, 8, 0, 7]);
  assert.deepEqual(Array.from(r.lines), [2, 4, 5, 6]);
});

Deno.test("libFM: bad input names file, line and what was expected", () => {
  const bad: [string, RegExp][] = [
    ["1 3:1\n2 4:1\n", /b\.libfm:2: label '2'; expected 1 \(click\), 0 or -1/],
    ["1 3:1\n0.5 4:1\n", /b\.libfm:2: label '0\.5'/],
    ["1 3:1\nyes 4:1\n", /b\.libfm:2: label 'yes'/],
    ["1 3:1\n1 4\n", /b\.libfm:2: feature 1 is '4'; expected idx:val/],
    ["1 3:1 -2:1\n", /b\.libfm:1: feature 2 is '-2:1'/],
    [
      "1 3:1\n\n1 3:1 20:1\n",
      /b\.libfm:3: feature index 20 \(feature 2\) is past the declared size: expected 0 ≤ idx < 20/,
    ],
    ["1 3:0.5\n", /b\.libfm:1: feature 3 has value '0\.5'; expected 1/],
    ["1 3:x\n", /b\.libfm:1: feature 3 has value 'x'/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseLibfm(text, "b.libfm", 20), re, text);
  // Without a declared size any index is accepted.
  assert.equal(parseLibfm("1 123456:1\n", "c.libfm").features[0], 123456);
});

Deno.test("libFM: a fixed feature count becomes one-hot fields, vocabularies from train", () => {
  const train = parseLibfm("1 0:1 5:1\n0 1:1 5:1\n1 0:1 6:1\n", "t");
  const test = parseLibfm("0 1:1 7:1\n1 5:1 6:1\n", "s");
  const s = libfmSplits(train, train, test, "x");
  assert.deepEqual(s.train.sparseNames, ["f0", "f1"]);
  assert.deepEqual(s.train.cardinalities, [3, 3]); // OOV + {0, 1}; OOV + {5, 6}
  assert.deepEqual(Array.from(s.train.sparse), [1, 1, 2, 1, 1, 2]);
  // Test: 7 unseen in f1 → OOV; 5 never in f0 → OOV (fields keep their own vocabularies).
  assert.deepEqual(Array.from(s.test.sparse), [2, 0, 0, 2]);
  assert.deepEqual(Array.from(s.test.labels), [0, 1]);
  assert.equal(s.train.sequences.length, 0);
});

Deno.test("libFM: varying feature counts become one multi-value field", () => {
  const train = parseLibfm("1 0:1 5:1 9:1\n0 1:1\n", "t");
  const test = parseLibfm("0 9:1 4:1\n", "s");
  assert.equal(fixedFieldCount([train, test]), -1);
  const s = libfmSplits(train, train, test, "x");
  assert.deepEqual(s.train.sparseNames, []);
  const [seq] = s.test.sequences;
  assert.equal(seq.name, "features");
  assert.equal(seq.cardinality, 5);
  assert.deepEqual(Array.from(seq.indices), [3, 0]);
  assert.match(s.description, /one multi-value field/);
});

Deno.test("libFM: without valid.libfm a seeded 10% of train is held out", () => {
  fc.assert(
    fc.property(fc.integer({ min: 10, max: 97 }), fc.integer({ min: 1, max: 4 }), (n, f) => {
      const text = Array.from(
        { length: n },
        (_, r) =>
          `${r % 2 ? 1 : -1} ${Array.from({ length: f }, (_, j) => `${j * 100 + r}:1`).join(" ")}`,
      ).join("\n");
      const rows = parseLibfm(text, "t");
      const s = libfmSplits(rows, undefined, rows, "x");
      const nv = Math.floor(0.1 * n);
      assert.equal(s.valid.numRows, nv);
      assert.equal(s.train.numRows, n - nv);
      assert.equal(s.train.sparseNames.length, f);
      // Held-out rows are exactly the ones train does not have: their features are OOV.
      assert.ok(s.valid.sparse.every((v) => v === 0));
      assert.ok(s.train.sparse.every((v) => v > 0));
      const again = libfmSplits(rows, undefined, rows, "x");
      assert.deepEqual(again.valid.labels, s.valid.labels, "the hold-out is deterministic");
    }),
    { numRuns: 25 },
  );
  assert.throws(
    () => libfmSplits(parseLibfm("1 1:1\n0 2:1\n", "t2"), undefined, parseLibfm("1 1:1", "s"), "x"),
    /t2: 2 rows; holding out 0\.1 of them/,
  );
});

Deno.test("libFM: the fixture folder loads (declared size from libfm.json)", async () => {
  const s = await loadLibfm(dir);
  assert.equal(s.train.numRows, 64);
  assert.equal(s.valid.numRows, 12);
  assert.equal(s.test.numRows, 12);
  assert.deepEqual(s.train.sparseNames, ["f0", "f1", "f2"]);
  assert.ok(s.train.labels.some((y) => y === 1) && s.train.labels.some((y) => y === 0));
  await assert.rejects(
    () => loadLibfm(dir, { numFeatures: 10 }),
    /train\.libfm:1: feature index 15/,
  );
  const tmp = await Deno.makeTempDir();
  await Deno.writeTextFile(`${tmp}/train.libfm`, "1 1:1\n");
  await assert.rejects(() => loadLibfm(tmp), /no test\.libfm/);
  await Deno.writeTextFile(`${tmp}/test.libfm`, "1 1:1\n");
  await Deno.writeTextFile(`${tmp}/libfm.json`, '{"numFeatures": "many"}');
  await assert.rejects(() => loadLibfm(tmp), /libfm\.json: numFeatures is "many"/);
});
