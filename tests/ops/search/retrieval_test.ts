// Retrieval: SimHash codes and Hamming top-k (RAR) against CPU references, RAT's field match ×
// IDF retrieval (zero scores dropped, fold / self exclusion, tiles), and bad input.
import fc from "npm:fast-check@3";
import {
  checkIndices,
  hammingTopK,
  ratRetrieve,
  readAll,
  simhash,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, gpuTest, randArray } from "../../helpers.ts";
import { Rng } from "../../../src/random.ts";

async function readDispose<T extends Tensor[]>(...ts: T) {
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out;
}

function popcount(x: number): number {
  let c = 0;
  for (let v = x >>> 0; v; v &= v - 1) c++;
  return c;
}

gpuTest("simhash: packed sign bits of random projections match the CPU", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 70 }),
      fc.integer({ min: 1, max: 20 }),
      fc.constantFrom(1, 7, 31, 32, 33, 64, 100),
      fc.integer({ min: 0, max: 1e6 }),
      async (n, d, bits, seed) => {
        const x = randArray(n * d, seed);
        const p = randArray(d * bits, seed + 1);
        const [codes] = await readDispose(
          tidy(() => simhash(tensor(x, [n, d]), tensor(p, [d, bits]))),
        );
        const words = Math.ceil(bits / 32);
        assert.equal(codes.length, n * words);
        for (let i = 0; i < n; i++) {
          for (let b = 0; b < bits; b++) {
            let dot = 0;
            for (let t = 0; t < d; t++) dot += x[i * d + t] * p[t * bits + b];
            if (Math.abs(dot) < 1e-4) continue; // rounding may flip a sign this close to 0
            const bit = (codes[i * words + (b >> 5)] >>> (b & 31)) & 1;
            assert.equal(bit, dot > 0 ? 1 : 0, `row ${i} bit ${b} (dot ${dot})`);
          }
          // Bits past `bits` stay 0.
          if (bits % 32) assert.equal(codes[i * words + words - 1] >>> (bits % 32), 0);
        }
      },
    ),
    { numRuns: 12 },
  );
});

/** CPU Hamming top-k: smaller distance first, ties to the lower row, excluded pairs skipped. */
function hammingRef(
  q: Uint32Array,
  db: Uint32Array,
  words: number,
  k: number,
  qg?: Int32Array,
  dg?: Int32Array,
) {
  const nq = q.length / words;
  const ndb = db.length / words;
  return Array.from({ length: nq }, (_, i) => {
    const c: [number, number][] = [];
    for (let j = 0; j < ndb; j++) {
      if (qg && qg[i] >= 0 && qg[i] === dg![j]) continue;
      let dist = 0;
      for (let w = 0; w < words; w++) dist += popcount(q[i * words + w] ^ db[j * words + w]);
      c.push([dist, j]);
    }
    c.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const top = c.slice(0, k);
    while (top.length < k) top.push([Infinity, -1]);
    return top;
  });
}

gpuTest("hammingTopK: random codes (many ties), groups and tiles match the CPU", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 150 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 20 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 0, max: 1e6 }),
      async (nq, ndb, words, k, groups, chunk, seed) => {
        const r = new Rng(seed);
        // Few distinct bit patterns → many equal distances.
        const pat = () => (r.u32() & 0x0f0f00ff) >>> 0;
        const q = Uint32Array.from({ length: nq * words }, pat);
        const db = Uint32Array.from({ length: ndb * words }, pat);
        const qg = Int32Array.from({ length: nq }, () => Math.floor(r.uniform() * 4) - 1);
        const dg = Int32Array.from({ length: ndb }, () => Math.floor(r.uniform() * 3));
        const [idx, dist] = await readDispose(...tidy(() => {
          const res = hammingTopK(
            tensor(q, [nq, words], "u32"),
            tensor(db, [ndb, words], "u32"),
            k,
            {
              exclude: groups
                ? { query: tensor(qg, [nq], "i32"), db: tensor(dg, [ndb], "i32") }
                : undefined,
              dbChunk: chunk,
              queryChunk: 7,
            },
          );
          return [res.indices, res.distances];
        }));
        const ref = hammingRef(q, db, words, k, groups ? qg : undefined, dg);
        assert.deepEqual([...idx], ref.flatMap((row) => row.map((p) => p[1])));
        assert.deepEqual([...dist], ref.flatMap((row) => row.map((p) => p[0])));
      },
    ),
    { numRuns: 15 },
  );
});

/** CPU RAT scores in f64 and the match pattern of each pair. */
function ratScores(q: Int32Array, db: Int32Array, f: number, used: boolean[]) {
  const nq = q.length / f;
  const n = db.length / f;
  const counts = Array.from({ length: f }, () => new Map<number, number>());
  for (let j = 0; j < n; j++) {
    for (let t = 0; t < f; t++) {
      const v = db[j * f + t];
      counts[t].set(v, (counts[t].get(v) ?? 0) + 1);
    }
  }
  const score = (i: number, j: number) => {
    let s = 0;
    for (let t = 0; t < f; t++) {
      if (used[t] && q[i * f + t] === db[j * f + t]) {
        s += Math.log(n / counts[t].get(db[j * f + t])!);
      }
    }
    return s;
  };
  const pattern = (i: number, j: number) => {
    let key = "";
    for (let t = 0; t < f; t++) key += used[t] && q[i * f + t] === db[j * f + t] ? "1" : "0";
    return key;
  };
  return { nq, n, score, pattern };
}

/**
 * Checks a RAT top-k row against f64 scores. Scores of different match patterns may tie in
 * exact arithmetic but not in f32, so near-ties (< 1e-4) may come in either order; equal
 * patterns give bit-equal f32 sums and must be ordered by row.
 */
function checkRatRow(
  i: number,
  idx: ArrayLike<number>,
  sc: ArrayLike<number>,
  k: number,
  ref: ReturnType<typeof ratScores>,
  allowed: (j: number) => boolean,
) {
  const eps = 1e-4;
  const cand = [...Array(ref.n).keys()].filter((j) => allowed(j) && ref.score(i, j) > eps);
  const got = Array.from(idx).filter((j) => j >= 0);
  assert.equal(got.length, Math.min(k, cand.length), `query ${i}: number of results`);
  for (let a = got.length; a < k; a++) {
    assert.equal(idx[a], -1);
    assert.equal(sc[a], -Infinity);
  }
  assert.equal(new Set(got).size, got.length, `query ${i}: duplicates`);
  got.forEach((j, a) => {
    assert.ok(allowed(j), `query ${i}: row ${j} is excluded`);
    assert.ok(Math.abs(sc[a] - ref.score(i, j)) < eps, `query ${i}: score of row ${j}`);
    if (a > 0) {
      const prev = got[a - 1];
      assert.ok(ref.score(i, prev) >= ref.score(i, j) - eps, `query ${i}: order at ${a}`);
      if (ref.pattern(i, prev) === ref.pattern(i, j)) assert.ok(prev < j, `query ${i}: tie order`);
    }
  });
  if (!got.length) return;
  const last = got[got.length - 1];
  for (const j of cand) {
    if (got.includes(j)) continue;
    assert.ok(ref.score(i, j) <= ref.score(i, last) + eps, `query ${i}: row ${j} missed`);
    if (ref.pattern(i, j) === ref.pattern(i, last)) assert.ok(j > last, `query ${i}: tie ${j}`);
  }
}

gpuTest(
  "ratRetrieve: field match × IDF top-k with zero scores dropped, tiles, used fields",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 1e6 }),
        async (nq, n, f, k, chunk, seed) => {
          const r = new Rng(seed);
          const vocab = Array.from({ length: f }, () => 1 + Math.floor(r.uniform() * 6));
          const row = () => vocab.map((v) => Math.floor(r.uniform() * v));
          const qd = Int32Array.from(Array.from({ length: nq }, row).flat());
          const dd = Int32Array.from(Array.from({ length: n }, row).flat());
          const fields = [...Array(f).keys()].filter(() => r.uniform() < 0.8);
          const used = [...Array(f).keys()].map((t) => fields.includes(t));
          const [idx, sc] = await readDispose(...tidy(() => {
            const res = ratRetrieve(tensor(qd, [nq, f], "i32"), tensor(dd, [n, f], "i32"), k, {
              vocabSizes: vocab,
              fields,
              dbChunk: chunk,
              queryChunk: 4,
            });
            return [res.indices, res.scores];
          }));
          const ref = ratScores(qd, dd, f, used);
          for (let i = 0; i < nq; i++) {
            checkRatRow(
              i,
              idx.subarray(i * k, i * k + k),
              sc.subarray(i * k, i * k + k),
              k,
              ref,
              () => true,
            );
          }
        },
      ),
      { numRuns: 15 },
    );
    await checkIndices();
  },
);

gpuTest(
  "ratRetrieve: 10-fold protocol (a query never retrieves its own fold) and self-exclusion",
  async () => {
    const n = 90, f = 3, k = 5;
    const r = new Rng(3);
    const vocab = [4, 9, 3];
    const dd = Int32Array.from({ length: n * f }, (_, e) => Math.floor(r.uniform() * vocab[e % f]));
    const fold = Int32Array.from({ length: n }, (_, j) => j % 10);
    const self = Int32Array.from({ length: n }, (_, j) => j);
    for (const groups of [fold, self]) {
      const [idx, sc] = await readDispose(...tidy(() => {
        const db = tensor(dd, [n, f], "i32");
        const g = tensor(groups, [n], "i32");
        const res = ratRetrieve(db, db, k, { vocabSizes: vocab, exclude: { query: g, db: g } });
        return [res.indices, res.scores];
      }));
      const ref = ratScores(dd, dd, f, [true, true, true]);
      for (let i = 0; i < n; i++) {
        checkRatRow(
          i,
          idx.subarray(i * k, i * k + k),
          sc.subarray(i * k, i * k + k),
          k,
          ref,
          (j) => groups[j] !== groups[i],
        );
      }
    }
  },
);

gpuTest(
  "ratRetrieve: a DB in several blocks (k × chunks past one merge) equals the CPU",
  async () => {
    // dbChunk 1 and k ≥ 64 make blocks of ⌊MAX_LOOP / k⌋ chunks, so 700 rows take many blocks
    // whose lists are merged in DB order (many ties: 2 fields of 3 and 4 values).
    const nq = 4, n = 700, f = 2;
    const r = new Rng(11);
    const vocab = [3, 4];
    const row = () => vocab.map((v) => Math.floor(r.uniform() * v));
    const qd = Int32Array.from(Array.from({ length: nq }, row).flat());
    const dd = Int32Array.from(Array.from({ length: n }, row).flat());
    const ref = ratScores(qd, dd, f, [true, true]);
    for (const [k, chunk] of [[64, 1], [128, 1], [128, 7]]) {
      const [idx, sc] = await readDispose(...tidy(() => {
        const res = ratRetrieve(tensor(qd, [nq, f], "i32"), tensor(dd, [n, f], "i32"), k, {
          vocabSizes: vocab,
          dbChunk: chunk,
        });
        return [res.indices, res.scores];
      }));
      for (let i = 0; i < nq; i++) {
        const at = (a: ArrayLike<number>) => Array.from(a).slice(i * k, i * k + k);
        checkRatRow(i, at(idx), at(sc), k, ref, () => true);
      }
    }
  },
);

gpuTest("ratRetrieve: a hand-computed case", async () => {
  // DB of 4 rows, 2 fields. IDF: field 0 value 0 occurs 3× → log(4/3); value 1 once → log 4;
  // field 1 value 5 twice → log 2.
  const db = tensor(new Int32Array([0, 5, 0, 5, 0, 2, 1, 3]), [4, 2], "i32");
  const q = tensor(new Int32Array([0, 5, 1, 9, 2, 0]), [3, 2], "i32");
  const res = ratRetrieve(q, db, 3, { vocabSizes: [3, 10] });
  const [idx, sc] = await readDispose(res.indices, res.scores, db, q);
  const l43 = Math.fround(Math.log(4 / 3)), l2 = Math.log(2), l4 = Math.log(4);
  assert.deepEqual([...idx], [0, 1, 2, 3, -1, -1, -1, -1, -1]);
  const want = [l43 + l2, l43 + l2, l43, l4, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity];
  want.forEach((w, a) => assert.ok(Math.abs(sc[a] - w) < 1e-5 || sc[a] === w, `score ${a}`));
});

gpuTest("ratRetrieve / hammingTopK: bad input names the op and shapes", async () => {
  tidy(() => {
    const q = tensor(new Int32Array(6), [2, 3], "i32");
    const db = tensor(new Int32Array(8), [4, 2], "i32");
    assert.throws(
      () => ratRetrieve(q, db, 2, { vocabSizes: [2, 2, 2] }),
      /wgrec ratRetrieve: query \[2, 3\] and DB \[4, 2\] must be \[q, F\] and \[n, F\] with F = 3/,
    );
    assert.throws(
      () => ratRetrieve(q, q, 2, { vocabSizes: [2, 2, 2], fields: [3] }),
      /wgrec ratRetrieve: field 3 is out of range for 3 fields/,
    );
    assert.throws(
      () => ratRetrieve(q, q, 2, { vocabSizes: [2, 2, 2], exclude: { query: q, db: q } }),
      /wgrec ratRetrieve: groups \[2, 3\] and \[2, 3\] must have one id per query \(2\)/,
    );
    const c = tensor(new Uint32Array(4), [2, 2], "u32");
    assert.throws(
      () => hammingTopK(c, tensor(new Uint32Array(3), [1, 3], "u32"), 1),
      /wgrec hammingTopK: codes \[2, 2\] and \[1, 3\] must be \[q, words\] and \[n, words\]/,
    );
    assert.throws(() => hammingTopK(c, c, 0), /wgrec tiledTopK: k = 0/);
    assert.throws(
      () => simhash(tensor(randArray(6, 1), [2, 3]), tensor(randArray(8, 1), [4, 2])),
      /wgrec simhash: input \[2, 3\] and planes \[4, 2\] must be \[n, d\] and \[d, bits\]/,
    );
  });
  // Ids outside a field's vocabulary never match and are reported.
  const [idx] = await readDispose(...tidy(() => {
    const db = tensor(new Int32Array([0, 7, 1, 1]), [2, 2], "i32");
    const q = tensor(new Int32Array([0, 7]), [1, 2], "i32");
    const res = ratRetrieve(q, db, 2, { vocabSizes: [2, 2] });
    return [res.indices];
  }));
  assert.deepEqual([...idx], [0, -1]);
  await assert.rejects(
    checkIndices(),
    /'ratRetrieve' \(DB \[2, 2\], vocabularies \[2,2\]\): 1 out-of-range .*position 1, value 7; 'ratRetrieve' \(query \[1, 2\]/,
  );
});
