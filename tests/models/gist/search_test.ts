// GIST's lifelong-sequence search equals its CPU reference over awkward shapes (empty and
// length-1 sequences, K above the length, prime widths, tiles smaller than a sequence), and
// refuses bad input with the op's name.
import fc from "npm:fast-check@3";
import assert from "node:assert/strict";
import { gpuTest, randArray } from "../../helpers.ts";
import { tensor } from "../../../src/tensor.ts";
import { toCsr } from "../../../src/models/gist/data.ts";
import { lifelongSearch, lifelongSearchCpu } from "../../../src/models/gist/search.ts";

gpuTest("GIST lifelongSearch: equals the CPU reference (property, tiled)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        n: fc.integer({ min: 1, max: 37 }),
        d: fc.constantFrom(1, 3, 8),
        k: fc.constantFrom(1, 3, 8),
        lens: fc.array(fc.integer({ min: 0, max: 53 }), { minLength: 1, maxLength: 7 }),
        budget: fc.constantFrom(24, 97, 1 << 20),
        seed: fc.integer({ min: 0, max: 1000 }),
      }),
      async ({ n, d, k, lens, budget, seed }) => {
        let s = seed;
        const next = (m: number) => (s = (s * 1103515245 + 12345) % 2147483648) % m;
        const seq = toCsr(lens.map((l) => Array.from({ length: l }, () => next(n))));
        const U = lens.length;
        const B = U + 2;
        const users = Int32Array.from({ length: B }, (_, b) => b % U);
        const table = randArray(n * d, seed, 1);
        const queries = randArray(B * d, seed + 1, 1);
        const tT = tensor(table, [n, d]);
        const qT = tensor(queries, [B, d]);
        const limit = Int32Array.from({ length: B }, () => next(60) - 3);
        const got = await lifelongSearch(tT, qT, seq, users, k, { budget, block: 3 });
        const cut = await lifelongSearch(tT, qT, seq, users, k, { budget, limit });
        tT.dispose();
        qT.dispose();
        assert.deepEqual(got, lifelongSearchCpu(table, d, queries, seq, users, k));
        assert.deepEqual(cut, lifelongSearchCpu(table, d, queries, seq, users, k, limit));
      },
    ),
    { numRuns: 12, seed: 5 },
  );
});

gpuTest("GIST lifelongSearch: a 5,000-long sequence, and bad input", async () => {
  const n = 2000;
  const d = 16;
  const L = 5000;
  const seq = toCsr([Array.from({ length: L }, (_, j) => (j * 7919) % n)]);
  const table = randArray(n * d, 3, 1);
  const queries = randArray(2 * d, 4, 1);
  const tT = tensor(table, [n, d]);
  const qT = tensor(queries, [2, d]);
  const users = Int32Array.from([0, 0]);
  const got = await lifelongSearch(tT, qT, seq, users, 32);
  assert.deepEqual(got, lifelongSearchCpu(table, d, queries, seq, users, 32));
  await assert.rejects(
    () => lifelongSearch(tT, qT, seq, Int32Array.from([0, 1]), 4),
    /gist lifelongSearch: user 1 has no sequence \(1 rows\)/,
  );
  await assert.rejects(
    () => lifelongSearch(tT, qT, toCsr([[n]]), Int32Array.from([0, 0]), 4),
    /sequence item 2000 is outside the table \[2000, 16\]/,
  );
  await assert.rejects(
    () => lifelongSearch(tT, tensor(new Float32Array(6), [2, 3]), seq, users, 4),
    /table \[2000, 16\], queries \[2, 3\], 2 users, k = 4; expected \[N, d\], \[B, d\]/,
  );
  tT.dispose();
  qT.dispose();
});
