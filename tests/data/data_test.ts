import assert from "node:assert/strict";
import fc from "npm:fast-check@3";
import { Rng } from "../../src/random.ts";
import {
  alignRows,
  atomicInteractions,
  binarize,
  checkIds,
  chronologicalSplit,
  concatInteractions,
  CRITEO_COLUMNS,
  criteoSchema,
  csrHas,
  csrRow,
  csrRows,
  CtrEncoder,
  DataFormatError,
  dedupe,
  encodeTokenColumn,
  encodeTokenSeqColumn,
  generateSynthetic,
  IdMap,
  type Interactions,
  itemCounts,
  kCore,
  kCoreDataset,
  parseAtomic,
  parseAtomicStream,
  parseCsv,
  parseMindBehaviors,
  parseMindNews,
  parseMindTime,
  parseMMRecInter,
  parseMovieLensRatings,
  PopularitySampler,
  quantileBoundaries,
  readLines,
  sampleNegatives,
  splitByLabels,
  splitCsvLine,
  splitSizes,
  toCsr,
  tripletBatches,
  UniformSampler,
  userItemCsr,
  Vocab,
} from "../../src/data/mod.ts";
import { loadMMRec } from "../../src/files.ts";
import { writeNpy } from "../../src/io/npy.ts";
import { auc } from "../../src/metrics/ctr.ts";
import { rankingMetrics } from "../../src/metrics/ranking.ts";
import { topKFromScores, topKShared } from "../../src/metrics/topk.ts";

// ---- lines -------------------------------------------------------------------------------------

Deno.test("readLines splits a chunked byte stream, keeping multi-byte characters and CRLF", async () => {
  const bytes = new TextEncoder().encode("\ufeffa\tb\r\nçé€\n\nlast");
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.length; i += 3) c.enqueue(bytes.subarray(i, i + 3));
      c.close();
    },
  });
  const lines: string[] = [];
  for await (const l of readLines(stream)) lines.push(l);
  assert.deepEqual(lines, ["a\tb", "çé€", "", "last"]);
});

// ---- RecBole atomic ----------------------------------------------------------------------------

const ITEM_FILE = "item_id:token\ttitle:token_seq\tyear:float\temb:float_seq\n" +
  "10\tToy Story\t1995\t0.5 1\n" +
  "20\t\t\t\n" +
  "30\tHeat\t1995\t-2\n";

Deno.test("parseAtomic reads typed columns, empty cells and sequences", async () => {
  const t = parseAtomic(ITEM_FILE, { source: "x.item" });
  assert.equal(t.numRows, 3);
  assert.deepEqual(t.fields, ["item_id", "title", "year", "emb"]);
  assert.deepEqual(t.columns.item_id.values, ["10", "20", "30"]);
  assert.deepEqual(t.columns.title.values, [["Toy", "Story"], [], ["Heat"]]);
  const year = t.columns.year.values as Float64Array;
  assert.equal(year[0], 1995);
  assert.ok(Number.isNaN(year[1]));
  assert.deepEqual((t.columns.emb.values as Float64Array[]).map((a) => [...a]), [[0.5, 1], [], [
    -2,
  ]]);
  const s = await parseAtomicStream(ITEM_FILE.split("\n"), { source: "x.item" });
  assert.deepEqual(s.columns.title.values, t.columns.title.values);
});

Deno.test("parseAtomic errors name the file, line and expectation", () => {
  const err = (text: string) => {
    try {
      parseAtomic(text, { source: "d.inter" });
    } catch (e) {
      assert.ok(e instanceof DataFormatError);
      return e.message;
    }
    assert.fail("no error");
  };
  assert.match(
    err("user_id\titem_id:token\n"),
    /^d\.inter:1: header field 'user_id' is not 'name:type'/,
  );
  assert.match(
    err("a:token\tb:float\n1\t2\n3\n"),
    /^d\.inter:3: expected 2 fields \(a, b\), found 1/,
  );
  assert.match(
    err("a:token\tb:float\n1\tx\n"),
    /^d\.inter:2: field 'b' expected a number, found 'x'/,
  );
  assert.match(err(""), /empty file/);
});

Deno.test("atomicInteractions remaps ids both ways; alignRows and token encoders follow them", () => {
  const inter = parseAtomic(
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\nu1\t30\t4\t100\nu2\t10\t2\t50\nu1\t10\t5\t70\n",
  );
  const d = atomicInteractions(inter);
  assert.deepEqual([...d.interactions.users], [0, 1, 0]);
  assert.deepEqual([...d.interactions.items], [0, 1, 1]);
  assert.deepEqual(d.userIds.ids, ["u1", "u2"]);
  assert.equal(d.itemIds.get("10"), 1);
  assert.equal(d.itemIds.raw(0), "30");
  assert.throws(() => d.itemIds.raw(2), /index 2 out of range \[0, 2\)/);
  assert.deepEqual([...d.interactions.ratings!], [4, 2, 5]);
  assert.deepEqual([...d.interactions.timestamps!], [100, 50, 70]);
  assert.equal(d.interactions.numItems, 2);
  const items = parseAtomic(ITEM_FILE);
  const rows = alignRows(items, "item_id", d.itemIds);
  assert.deepEqual([...rows], [2, 0]);
  const titles = encodeTokenSeqColumn(items, "title", { rows });
  assert.deepEqual([...titles.indptr], [0, 1, 3]);
  assert.deepEqual(
    [...titles.indices].map((i) => titles.vocab.tokens[i]),
    ["Heat", "Toy", "Story"],
  );
  const ids = encodeTokenColumn(items, "item_id", { minCount: 1 });
  assert.equal(ids.vocab.size, 4);
  assert.throws(() => encodeTokenColumn(items, "nope"), /no field 'nope' in header/);
  assert.throws(
    () => encodeTokenColumn(items, "year"),
    /field 'year' has type float, expected token/,
  );
});

// ---- MMRec ---------------------------------------------------------------------------------------

const MMREC = "userID\titemID\trating\ttimestamp\tx_label\n" +
  "0\t0\t5\t10\t0\n0\t2\t4\t11\t0\n0\t1\t3\t12\t1\n1\t1\t5\t13\t0\n1\t0\t1\t14\t2\n";

Deno.test("parseMMRecInter keeps ids and splits by x_label", () => {
  const m = parseMMRecInter(MMREC);
  assert.equal(m.interactions.numUsers, 2);
  assert.equal(m.interactions.numItems, 3);
  assert.deepEqual([...m.labels], [0, 0, 1, 0, 2]);
  assert.deepEqual([...m.split.train.items], [0, 2, 1]);
  assert.deepEqual([...m.split.valid.users], [0]);
  assert.deepEqual([...m.split.test.items], [0]);
  assert.deepEqual([...m.split.test.timestamps!], [14]);
  assert.throws(
    () => parseMMRecInter(MMREC.replace("\t2\n", "\t3\n"), { source: "b.inter" }),
    /b\.inter:6: x_label must be 0, 1 or 2, found '3'/,
  );
  assert.throws(
    () => parseMMRecInter(MMREC.replace("1\t0\t1", "-1\t0\t1"), { source: "b.inter" }),
    /b\.inter:6: userID must be a non-negative integer, found '-1'/,
  );
  assert.throws(
    () => parseMMRecInter(MMREC, { numItems: 2, source: "b.inter" }),
    /b\.inter:3: itemID 2 is not below the item count 2/,
  );
  assert.throws(() => parseMMRecInter("user\titemID\tx_label\n"), /header lacks 'userID'/);
});

Deno.test("loadMMRec reads .inter with feature .npy files and checks their rows", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/toy.inter`, MMREC);
    await Deno.writeFile(
      `${dir}/image_feat.npy`,
      writeNpy({ shape: [4, 2], data: new Float64Array(8).fill(0.5) }),
    );
    await Deno.writeFile(
      `${dir}/text_feat.npy`,
      writeNpy({ shape: [4, 3], data: new Float32Array(12).fill(1) }),
    );
    const m = await loadMMRec(dir, "toy");
    assert.equal(m.interactions.numItems, 4); // feature rows, not max id + 1
    assert.equal(m.imageFeat!.dim, 2);
    assert.ok(m.imageFeat!.data instanceof Float32Array);
    assert.equal(m.textFeat!.dim, 3);
    await Deno.writeFile(
      `${dir}/text_feat.npy`,
      writeNpy({ shape: [2, 3], data: new Float32Array(6) }),
    );
    await assert.rejects(
      () => loadMMRec(dir, "toy"),
      /image_feat\.npy has 4 rows but text_feat\.npy has 2/,
    );
    await Deno.remove(`${dir}/image_feat.npy`);
    await assert.rejects(
      () => loadMMRec(dir, "toy"),
      /toy\.inter:3: itemID 2 is not below the item count 2/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- MovieLens -----------------------------------------------------------------------------------

Deno.test("parseMovieLensRatings reads u.data and ratings.dat", () => {
  const a = parseMovieLensRatings(
    "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t1\t1\n",
  );
  assert.deepEqual([...a.interactions.users], [0, 1, 0]);
  assert.deepEqual([...a.interactions.items], [0, 1, 1]);
  assert.equal(a.interactions.timestamps![1], 891717742);
  const b = parseMovieLensRatings("1::1193::5::978300760\r\n1::661::3::978302109\r\n");
  assert.deepEqual(b.itemIds.ids, ["1193", "661"]);
  assert.deepEqual([...b.interactions.ratings!], [5, 3]);
  assert.throws(
    () => parseMovieLensRatings("1::2::3\n", { source: "ratings.dat" }),
    /ratings\.dat:1: expected 4 fields/,
  );
  assert.throws(
    () => parseMovieLensRatings("1\t2\tx\t4\n"),
    /:1: rating must be a number, found 'x'/,
  );
});

// ---- MIND ----------------------------------------------------------------------------------------

const NEWS = "N1\tsports\tfootball\tA title\tAn abstract\thttps://x/1\t[]\t[]\n" +
  "N2\tnews\tpolitics\tOther\t\thttps://x/2\t[]\t[]\n" +
  "N3\tsports\ttennis\tThird\tabs\thttps://x/3\t[]\t[]\n";
const BEHAVIORS = "1\tU7\t11/15/2019 8:55:22 AM\tN1 N2\tN3-1 N2-0\n" +
  "2\tU8\t11/15/2019 12:05:01 PM\t\tN1-0 N3-0 N2-1\n" +
  "3\tU7\t11/16/2019 11:59:59 PM\tN3\tN1 N2\n";

Deno.test("MIND news and behaviors parse into indices, labels and times", () => {
  const news = parseMindNews(NEWS);
  assert.equal(news.ids.size, 3);
  assert.equal(news.categories.tokens[news.category[0]], "sports");
  assert.equal(news.category[0], news.category[2]);
  assert.equal(news.abstracts[1], "");
  const b = parseMindBehaviors(BEHAVIORS, { news: news.ids });
  assert.deepEqual([...b.users], [0, 1, 0]);
  assert.deepEqual([...b.historyPtr], [0, 2, 2, 3]);
  assert.deepEqual([...b.history], [0, 1, 2]);
  assert.deepEqual([...b.impressionPtr], [0, 2, 5, 7]);
  assert.deepEqual([...b.impressions], [2, 1, 0, 2, 1, 0, 1]);
  assert.deepEqual([...b.labels], [1, 0, 0, 0, 1, -1, -1]);
  assert.equal(b.times[0], Date.UTC(2019, 10, 15, 8, 55, 22));
  assert.equal(b.times[1], Date.UTC(2019, 10, 15, 12, 5, 1));
  assert.equal(parseMindTime("11/16/2019 12:00:00 AM"), Date.UTC(2019, 10, 16, 0, 0, 0));
  assert.throws(
    () =>
      parseMindBehaviors(BEHAVIORS.replace("N3-1", "N9-1"), {
        news: news.ids,
        source: "behaviors.tsv",
      }),
    /behaviors\.tsv:1: news id 'N9' is not in news\.tsv/,
  );
  assert.throws(() => parseMindBehaviors("1\tU1\tyesterday\t\tN1-1\n"), /time must look like/);
  assert.throws(
    () => parseMindNews("N1\tsports\n", { source: "news.tsv" }),
    /news\.tsv:1: expected 8 tab-separated fields/,
  );
});

// ---- CSV and CTR -------------------------------------------------------------------------------

Deno.test("splitCsvLine handles quotes, escaped quotes and empty fields", () => {
  assert.deepEqual(splitCsvLine('1,"Bridges, The (1995)",Drama|Romance,'), [
    "1",
    "Bridges, The (1995)",
    "Drama|Romance",
    "",
  ]);
  assert.deepEqual(splitCsvLine('"say ""hi""",,x'), ['say "hi"', "", "x"]);
  assert.deepEqual(splitCsvLine(",,"), ["", "", ""]);
  assert.throws(() => splitCsvLine('a,"b', ",", "f.csv", 7), /f\.csv:7: unterminated quoted field/);
  assert.throws(
    () => parseCsv("a,b\n1,2,3\n", { source: "f.csv" }),
    /f\.csv:2: expected 2 fields separated by ",", found 3/,
  );
});

Deno.test("CtrEncoder: min-count vocabularies with OOV, log dense, Criteo buckets, multi-value fields", () => {
  const train = parseCsv(
    "label,n,c,g\n1,3,a,x|y\n0,,a,y\n1,-2,b,\n0,100,a,z|y\n",
  );
  const enc = CtrEncoder.fit(train, {
    label: "label",
    dense: ["n"],
    sparse: ["c", "n"],
    sequence: [{ name: "g", sep: "|" }],
    buckets: { n: "criteo" },
  }, { minCount: 2 });
  const d = enc.transform(train);
  assert.deepEqual([...d.labels], [1, 0, 1, 0]);
  const log1p = (v: number) => Math.sign(v) * Math.log1p(Math.abs(v));
  assert.deepEqual([...d.dense], [log1p(3), 0, log1p(-2), log1p(100)].map(Math.fround));
  // c: "a" ×3 kept (index 1), "b" ×1 → OOV (0). n buckets: 3→⌊ln3²⌋=1, ""→"", -2, 100→21: all single → OOV.
  assert.deepEqual([...d.sparse], [1, 0, 1, 0, 0, 0, 1, 0]);
  assert.deepEqual(d.cardinalities, [2, 1]);
  const g = d.sequences[0];
  assert.deepEqual([...g.indptr], [0, 2, 3, 3, 5]);
  assert.equal(g.cardinality, 2); // only "y" (×3) survives min-count 2
  assert.deepEqual([...g.indices], [0, 1, 1, 0, 1]);
  const test = parseCsv("label,n,c,g\n1,7,zzz,y\n", { source: "t.csv" });
  assert.deepEqual([...enc.transform(test).sparse], [0, 0]);
  assert.throws(
    () => enc.transform(parseCsv("label,n,c,g\nyes,1,a,\n", { source: "t.csv" })),
    /t\.csv:2: label 'label' must be a number, found 'yes'/,
  );
  assert.throws(
    () => CtrEncoder.fit(train, { label: "click" }).transform(train),
    /no column 'click'/,
  );
});

Deno.test("Criteo headerless TSV parses with CRITEO_COLUMNS and the bucketised schema", () => {
  const row = ["1", "5", "", ...Array(11).fill("0"), "68fd1e64", "", ...Array(24).fill("a")].join(
    "\t",
  );
  const t = parseCsv(row + "\n" + row.replace(/^1/, "0") + "\n", {
    delimiter: "\t",
    header: CRITEO_COLUMNS,
  });
  assert.equal(t.rows.length, 2);
  assert.equal(t.header.length, 40);
  const d = CtrEncoder.fit(t, criteoSchema(true)).transform(t);
  assert.equal(d.sparseNames.length, 39);
  assert.deepEqual([...d.labels], [1, 0]);
  assert.ok(d.cardinalities.every((c) => c === 2));
  const plain = CtrEncoder.fit(t, criteoSchema()).transform(t);
  assert.equal(plain.denseNames.length, 13);
  assert.equal(plain.dense[0], Math.fround(Math.log1p(5)));
});

Deno.test("quantileBoundaries and Vocab basics", () => {
  assert.deepEqual(quantileBoundaries([1, 2, 3, 4, 5, 6, 7, 8], 4), [3, 5, 7]);
  assert.deepEqual(quantileBoundaries([1, 1, 1, 1, 2], 4), [1]);
  const v = Vocab.fit(["b", "a", "b", "c", "a", "b"], { minCount: 2 });
  assert.deepEqual(v.tokens, ["<oov>", "b", "a"]);
  assert.deepEqual([...v.counts], [1, 3, 2]);
  assert.equal(v.encode("c"), 0);
  assert.equal(Vocab.fit(["x", "y", "y"], { maxSize: 1 }).size, 2);
});

// ---- types and transforms ----------------------------------------------------------------------

function inter(
  users: number[],
  items: number[],
  times?: number[],
  ratings?: number[],
): Interactions {
  const x: Interactions = {
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    numUsers: Math.max(-1, ...users) + 1,
    numItems: Math.max(-1, ...items) + 1,
  };
  if (times) x.timestamps = Float64Array.from(times);
  if (ratings) x.ratings = Float32Array.from(ratings);
  return x;
}

Deno.test("id validation and CSR helpers", () => {
  assert.throws(() => checkIds([0, 3], 3, "items"), /items\[1\] = 3 is out of range \[0, 3\)/);
  assert.throws(() => checkIds([-1], 3, "users"), /users\[0\] = -1/);
  assert.throws(() => checkIds([0.5], 3), /out of range/);
  const csr = toCsr([1, 0, 1, 1], [5, 2, 3, 5], 3, 6);
  assert.deepEqual([...csr.indptr], [0, 1, 3, 3]);
  assert.deepEqual([...csrRow(csr, 1)], [3, 5]);
  assert.ok(csrHas(csr, 1, 5) && !csrHas(csr, 1, 4) && !csrHas(csr, 2, 0));
  assert.equal(csrRows(csr).length, 3);
  assert.throws(() => toCsr([0], [6], 1, 6), /toCsr cols\[0\] = 6/);
  const m = IdMap.from(["a", "b", "c"]);
  assert.deepEqual(m.subset([2, 0]).ids, ["c", "a"]);
  assert.throws(() => IdMap.from(["a", "a"]), /duplicate id 'a'/);
});

Deno.test("binarize, dedupe and concat", () => {
  const x = inter([0, 0, 1, 1], [0, 1, 0, 0], [5, 6, 9, 2], [4, 3, 5, 4]);
  assert.deepEqual([...binarize(x, 4).items], [0, 0, 0]);
  const d = dedupe(x);
  assert.deepEqual([...d.users], [0, 0, 1]);
  assert.deepEqual([...d.timestamps!], [5, 6, 2]); // the earliest duplicate is kept
  assert.equal(concatInteractions(x, d).users.length, 7);
  assert.throws(() => binarize(inter([0], [0]), 4), /no ratings/);
});

Deno.test("kCore removes users and items iteratively and re-indexes", () => {
  // Item 3 has one interaction; removing it leaves user 2 with one, which then goes too,
  // taking item 2 below the threshold.
  const x = inter([0, 0, 0, 1, 1, 1, 2, 2], [0, 1, 2, 0, 1, 2, 2, 3]);
  const r = kCore(x, { userK: 2, itemK: 2 });
  assert.deepEqual([...r.userIndex], [0, 1]);
  assert.deepEqual([...r.itemIndex], [0, 1, 2]);
  assert.equal(r.interactions.users.length, 6);
  const d = kCoreDataset({
    interactions: x,
    userIds: IdMap.from(["a", "b", "c"]),
    itemIds: IdMap.from(["w", "x", "y", "z"]),
  }, {
    userK: 3,
    itemK: 2,
  });
  assert.deepEqual(d.userIds.ids, ["a", "b"]);
  assert.deepEqual(d.itemIds.ids, ["w", "x", "y"]);
});

Deno.test("property: k-core output satisfies the thresholds and is a fixed point", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 12 })), {
        maxLength: 120,
      }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      (pairs, uk, ik) => {
        const x = {
          ...inter(pairs.map((p) => p[0]), pairs.map((p) => p[1])),
          numUsers: 13,
          numItems: 13,
        };
        const r = kCore(x, { userK: uk, itemK: ik }).interactions;
        const uc = new Int32Array(r.numUsers);
        for (const u of r.users) uc[u]++;
        assert.ok(uc.every((c) => c >= uk));
        assert.ok(itemCounts(r).every((c) => c >= ik));
        assert.equal(kCore(r, { userK: uk, itemK: ik }).interactions.users.length, r.users.length);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("splitSizes follows RecBole's _calcu_split_ids", () => {
  // Reference values from RecBole's rule: later parts get floor(r·n), then at least one row
  // each when their share is in (0, 1) and the first part keeps more than one.
  assert.deepEqual(splitSizes(10, [0.8, 0.1, 0.1]), [8, 1, 1]);
  assert.deepEqual(splitSizes(5, [0.8, 0.1, 0.1]), [3, 1, 1]);
  assert.deepEqual(splitSizes(3, [0.8, 0.1, 0.1]), [1, 1, 1]);
  assert.deepEqual(splitSizes(2, [0.8, 0.1, 0.1]), [1, 0, 1]);
  assert.deepEqual(splitSizes(1, [0.8, 0.1, 0.1]), [1, 0, 0]);
  assert.deepEqual(splitSizes(25, [0.8, 0.1, 0.1]), [21, 2, 2]);
});

Deno.test("property: chronologicalSplit partitions rows and keeps time order per user", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.integer({ min: 0, max: 5 }),
          fc.integer({ min: 0, max: 9 }),
          fc.integer({ min: 0, max: 50 }),
        ),
        {
          maxLength: 80,
        },
      ),
      (rows) => {
        const x = {
          ...inter(rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])),
          numUsers: 6,
          numItems: 10,
        };
        const s = chronologicalSplit(x);
        assert.equal(
          s.train.users.length + s.valid.users.length + s.test.users.length,
          rows.length,
        );
        for (let u = 0; u < 6; u++) {
          const times = (p: Interactions) => [...p.timestamps!].filter((_, i) => p.users[i] === u);
          const [tr, va, te] = [times(s.train), times(s.valid), times(s.test)];
          assert.deepEqual(
            [tr.length, va.length, te.length],
            splitSizes(tr.length + va.length + te.length, [0.8, 0.1, 0.1]),
          );
          if (va.length) assert.ok(Math.max(...tr) <= Math.min(...va));
          if (te.length) assert.ok(Math.max(...tr, ...va) <= Math.min(...te));
        }
      },
    ),
    { numRuns: 150 },
  );
  assert.throws(() => splitByLabels(inter([0], [0]), [3]), /labels\[0\] = 3/);
});

// ---- sampling ------------------------------------------------------------------------------------

Deno.test("property: sampled negatives never come from the user's history (sparse and dense users)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 30 }).chain((n) =>
        fc.tuple(
          fc.constant(n),
          fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: n - 1 }),
          fc.integer(),
        )
      ),
      ([n, hist, seed]) => {
        const csr = toCsr(hist.map(() => 0), hist, 1, n);
        const neg = sampleNegatives(new Int32Array(50), csr, new Rng(seed), 2);
        assert.equal(neg.length, 100);
        const h = new Set(hist);
        for (const v of neg) assert.ok(v >= 0 && v < n && !h.has(v));
      },
    ),
    { numRuns: 200 },
  );
  const full = toCsr([0, 0], [0, 1], 1, 2);
  assert.throws(
    () => sampleNegatives([0], full, new Rng(1)),
    /user 0 has interacted with all 2 items/,
  );
  assert.throws(() => sampleNegatives([1], full, new Rng(1)), /users\[0\] = 1 is out of range/);
});

Deno.test("dense-user negatives are uniform over the complement", () => {
  const hist = [0, 1, 2, 4, 5, 7, 8];
  const csr = toCsr(hist.map(() => 0), hist, 1, 10); // complement {3, 6, 9}
  const neg = sampleNegatives(new Int32Array(3000), csr, new Rng(3));
  const c = new Map<number, number>();
  for (const v of neg) c.set(v, (c.get(v) ?? 0) + 1);
  assert.deepEqual([...c.keys()].sort(), [3, 6, 9]);
  for (const v of c.values()) assert.ok(Math.abs(v - 1000) < 120, `${v}`);
});

Deno.test("tripletBatches covers each training row once per epoch, deterministically", () => {
  const x = inter([0, 0, 1, 1, 2, 2, 2], [0, 1, 1, 2, 0, 3, 4]);
  const hist = userItemCsr(x);
  const run = (seed: number) => [...tripletBatches(x, hist, 3, new Rng(seed), { numNeg: 2 })];
  const batches = run(7);
  assert.deepEqual(batches.map((b) => b.users.length), [3, 3, 1]);
  const seen = batches.flatMap((b) => [...b.users].map((u, i) => `${u}:${b.pos[i]}`)).sort();
  assert.deepEqual(seen, [...x.users].map((u, i) => `${u}:${x.items[i]}`).sort());
  for (const b of batches) {
    assert.equal(b.neg.length, b.users.length * 2);
    b.neg.forEach((v, j) => assert.ok(!csrHas(hist, b.users[j >> 1], v)));
  }
  assert.deepEqual(run(7), batches);
  assert.notDeepEqual(run(8), batches);
  assert.equal([...tripletBatches(x, hist, 3, new Rng(1), { dropLast: true })].length, 2);
  assert.throws(
    () => tripletBatches(x, toCsr([], [], 2, 5), 3, new Rng(1)).next(),
    /history is 2×5/,
  );
});

Deno.test("samplers: uniform and popularity log q, alias draws follow q", () => {
  const u = new UniformSampler(4);
  const s = u.sample(10, new Rng(1));
  assert.ok(s.items.every((i) => i >= 0 && i < 4));
  assert.ok(s.logQ.every((l) => Math.abs(l + Math.log(4)) < 1e-6));
  const counts = [10, 0, 30, 60];
  const p = new PopularitySampler(counts);
  assert.ok(Math.abs(p.logQ[3] - Math.log(0.6)) < 1e-6);
  assert.equal(p.logQ[1], -Infinity);
  const draws = p.sample(20000, new Rng(2));
  const freq = new Float64Array(4);
  for (const i of draws.items) freq[i]++;
  assert.equal(freq[1], 0);
  for (const i of [0, 2, 3]) {
    assert.ok(Math.abs(freq[i] / 20000 - counts[i] / 100) < 0.015, `${i}: ${freq[i]}`);
  }
  draws.items.forEach((it, j) => assert.equal(draws.logQ[j], p.logQ[it]));
  const smooth = new PopularitySampler(counts, { power: 0.75, smoothing: 1 });
  const q = [...smooth.logQ].map(Math.exp);
  assert.ok(Math.abs(q.reduce((a, b) => a + b) - 1) < 1e-6);
  assert.ok(q[1] > 0);
  assert.throws(() => p.logProb([4]), /items\[0\] = 4 is out of range/);
  assert.throws(() => new PopularitySampler([0, 0]), /all item weights are zero/);
});

// ---- synthetic -----------------------------------------------------------------------------------

const SYN = generateSynthetic({ seed: 42 });

Deno.test("synthetic data: sizes, determinism, chronology and cold items", () => {
  const x = SYN.interactions;
  assert.equal(x.numUsers, 1000);
  assert.equal(x.numItems, 800);
  assert.ok(x.users.length > 18000 && x.users.length < 22000, `${x.users.length}`);
  const again = generateSynthetic({ seed: 42 });
  assert.deepEqual(again.interactions.items, x.items);
  assert.deepEqual(again.imageFeat, SYN.imageFeat);
  assert.deepEqual(again.ctr.labels, SYN.ctr.labels);
  assert.notDeepEqual(
    generateSynthetic({
      seed: 43,
      numUsers: 50,
      numItems: 60,
      numInteractions: 500,
      ctrImpressions: 10,
    }).interactions.items.subarray(0, 20),
    x.items.subarray(0, 20),
  );
  // The labels are exactly the per-user chronological 8:1:1 split.
  const s = chronologicalSplit(x);
  assert.deepEqual(s.test.items, SYN.split.test.items);
  assert.deepEqual(s.valid.items, SYN.split.valid.items);
  assert.deepEqual(splitByLabels(x, SYN.labels).train.items, SYN.split.train.items);
  // Cold items: none in train, some in valid/test.
  const train = new Set(SYN.split.train.items);
  assert.ok(SYN.coldItems.length > 0);
  for (const i of SYN.coldItems) assert.ok(!train.has(i));
  const cold = new Set(SYN.coldItems);
  assert.ok(SYN.split.test.items.some((i) => cold.has(i)));
  // Power-law popularity: the top 10% of items hold a large share of training interactions.
  const c = [...itemCounts(SYN.split.train)].sort((a, b) => b - a);
  const top = c.slice(0, 80).reduce((a, b) => a + b, 0) / SYN.split.train.users.length;
  assert.ok(top > 0.3, `top-10% share ${top}`);
  // No user repeats an item.
  assert.equal(dedupe(x).users.length, x.users.length);
  assert.equal(SYN.imageFeat.length, 800 * SYN.imageDim);
  assert.equal(SYN.textFeat.length, 800 * 48);
  assert.ok(SYN.imageFeat.every(Number.isFinite) && SYN.textFeat.every(Number.isFinite));
});

Deno.test("synthetic CTR view: valid fields, a plausible click rate and learnable signal", () => {
  const c = SYN.ctr;
  const F = c.fieldNames.length;
  for (let r = 0; r < c.labels.length; r++) {
    for (let f = 0; f < F; f++) assert.ok(c.fields[r * F + f] < c.cardinalities[f]);
  }
  const rate = c.labels.reduce((a, b) => a + b, 0) / c.labels.length;
  assert.ok(rate > 0.05 && rate < 0.4, `click rate ${rate}`);
  assert.ok(auc(c.labels, c.clickProb) > 0.7);
});

Deno.test("synthetic features carry the topic signal (same-topic items are closer)", () => {
  const D = SYN.imageDim;
  const cos = (a: number, b: number) => {
    let d = 0, na = 0, nb = 0;
    for (let k = 0; k < D; k++) {
      const x = SYN.imageFeat[a * D + k], y = SYN.imageFeat[b * D + k];
      d += x * y;
      na += x * x;
      nb += y * y;
    }
    return d / Math.sqrt(na * nb);
  };
  let same = 0, diff = 0, ns = 0, nd = 0;
  for (let a = 0; a < 200; a++) {
    for (let b = a + 1; b < 200; b++) {
      if (SYN.itemTopic[a] === SYN.itemTopic[b]) (same += cos(a, b)), ns++;
      else (diff += cos(a, b)), nd++;
    }
  }
  assert.ok(same / ns > diff / nd + 0.2, `same ${same / ns} vs different ${diff / nd}`);
});

Deno.test("synthetic data is learnable: a small CPU BPR matrix factorisation beats popularity", () => {
  const { train, test } = SYN.split;
  const U = train.numUsers, I = train.numItems, D = 16;
  const hist = userItemCsr(train);
  const truth = csrRows(userItemCsr(test));
  const pop = topKShared(itemCounts(train), U, 20, hist);
  const popR = rankingMetrics(pop, truth, [20]);
  const rng = new Rng(5);
  const P = Float32Array.from({ length: U * D }, () => 0.1 * rng.normal());
  const Q = Float32Array.from({ length: I * D }, () => 0.1 * rng.normal());
  const bias = new Float32Array(I);
  const lr = 0.05, reg = 0.002;
  for (let epoch = 0; epoch < 12; epoch++) {
    for (const b of tripletBatches(train, hist, 4096, rng)) {
      for (let t = 0; t < b.users.length; t++) {
        const u = b.users[t] * D, i = b.pos[t] * D, j = b.neg[t] * D;
        let x = bias[b.pos[t]] - bias[b.neg[t]];
        for (let k = 0; k < D; k++) x += P[u + k] * (Q[i + k] - Q[j + k]);
        const g = 1 / (1 + Math.exp(x)); // d/dx of log σ(x)
        bias[b.pos[t]] += lr * (g - reg * bias[b.pos[t]]);
        bias[b.neg[t]] += lr * (-g - reg * bias[b.neg[t]]);
        for (let k = 0; k < D; k++) {
          const pu = P[u + k], qi = Q[i + k], qj = Q[j + k];
          P[u + k] += lr * (g * (qi - qj) - reg * pu);
          Q[i + k] += lr * (g * pu - reg * qi);
          Q[j + k] += lr * (-g * pu - reg * qj);
        }
      }
    }
  }
  const scores = new Float32Array(U * I);
  for (let u = 0; u < U; u++) {
    for (let i = 0; i < I; i++) {
      let s = bias[i];
      for (let k = 0; k < D; k++) s += P[u * D + k] * Q[i * D + k];
      scores[u * I + i] = s;
    }
  }
  const mf = rankingMetrics(topKFromScores(scores, I, 20, hist), truth, [20]);
  console.log(
    `synthetic Recall@20 / NDCG@20: popularity ${popR["recall@20"].toFixed(4)} / ${
      popR["ndcg@20"].toFixed(4)
    }, ` +
      `BPR-MF ${mf["recall@20"].toFixed(4)} / ${mf["ndcg@20"].toFixed(4)}`,
  );
  assert.ok(mf["recall@20"] > 1.3 * popR["recall@20"]);
  assert.ok(mf["ndcg@20"] > 1.3 * popR["ndcg@20"]);
});
