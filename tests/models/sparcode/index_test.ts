// SparCode's inverted index: build (count + deterministic fill) and serving against CPU
// references over awkward shapes, serving == dense brute force exactly, and bad input.
import fc from "npm:fast-check@3";
import { assert, gpuTest } from "../../helpers.ts";
import { checkIndices, tensor } from "../../../internal.ts";
import { Rng } from "../../../src/random.ts";
import {
  allCodes,
  buildIndex,
  codeIds,
  denseScores,
  disposeIndex,
  serveScores,
  serveTopK,
} from "../../../src/models/sparcode/index.ts";

/** A table with many exact zeros (ReLU outputs) and some ties. */
function makeTable(c: number, n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: c * n }, () => {
    const v = rng.uniform() * 2 - 1;
    return v <= 0 ? 0 : Math.round(v * 16) / 16 + rng.uniform() * 1e-3;
  });
}

/** CPU reference of the CSR build. */
function cpuIndex(t: Float32Array, c: number, n: number, thr: number) {
  const ptr = [0];
  const items: number[] = [];
  const vals: number[] = [];
  for (let r = 0; r < c; r++) {
    for (let j = 0; j < n; j++) {
      if (t[r * n + j] > thr) {
        items.push(j);
        vals.push(t[r * n + j]);
      }
    }
    ptr.push(items.length);
  }
  return { ptr, items, vals };
}

async function checkBuild(nCodes: number, m: number, items: number, chunk: number, seed: number) {
  const space = { codesPerSpace: nCodes, subspaces: m };
  const c = nCodes ** m;
  const host = makeTable(c, items, seed);
  const table = tensor(host, [c, items]);
  const thr = seed % 3 === 0 ? 0.3 : 0;
  const index = await buildIndex(
    (c0, k) => tensor(host.subarray(c0 * items, (c0 + k) * items), [k, items]),
    space,
    items,
    { chunk, threshold: thr },
  );
  const want = cpuIndex(host, c, items, thr);
  assert.equal(index.nnz, want.items.length);
  assert.deepEqual(Array.from(await index.ptr.read()), want.ptr);
  if (index.nnz > 0) {
    assert.deepEqual(Array.from((await index.items.read()).subarray(0, index.nnz)), want.items);
    assert.deepEqual(
      Array.from((await index.vals.read()).subarray(0, index.nnz)),
      Array.from(Float32Array.from(want.vals)),
    );
  }
  // Serving == CPU sums in token order, and (threshold 0) == dense brute force bit for bit.
  const rng = new Rng(seed + 1);
  const nq = 1 + (seed % 5);
  const k = 1 + (seed % 4);
  const ids = Int32Array.from({ length: nq * k }, () => rng.int(c));
  const idsT = tensor(ids, [nq, k], "i32");
  const served = await serveScores(index, idsT).read();
  for (let q = 0; q < nq; q++) {
    for (let j = 0; j < items; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) {
        const v = host[ids[q * k + t] * items + j];
        if (v > thr) s = Math.fround(s + v);
      }
      assert.equal(served[q * items + j], s, `query ${q} item ${j}`);
    }
  }
  if (thr === 0) {
    const dense = await denseScores(table, idsT).read();
    assert.deepEqual(Array.from(served), Array.from(dense));
    const kk = Math.min(items, 7);
    const top = serveTopK(index, idsT, kk, 1 + (seed % 2)); // query chunks of 1 or 2
    const [vi, vv] = [await top.indices.read(), await top.values.read()];
    for (let q = 0; q < nq; q++) {
      const order = Array.from({ length: items }, (_, j) => j).sort((a, b) =>
        dense[q * items + b] - dense[q * items + a] || a - b
      );
      assert.deepEqual(Array.from(vi.subarray(q * kk, (q + 1) * kk)), order.slice(0, kk));
      assert.deepEqual(
        Array.from(vv.subarray(q * kk, (q + 1) * kk)),
        order.slice(0, kk).map((j) => dense[q * items + j]),
      );
    }
  }
  disposeIndex(index);
  await checkIndices();
}

gpuTest("sparcode index: build and serve match the CPU reference (fixed shapes)", async () => {
  await checkBuild(3, 2, 1, 4, 1); // one item
  await checkBuild(5, 1, 257, 2, 2); // items past one tile, codes in uneven chunks
  await checkBuild(2, 3, 600, 8, 3); // threshold 0.3, every code in one chunk
  await checkBuild(7, 2, 13, 5, 4);
});

gpuTest("sparcode index: property test over awkward shapes", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 2 }),
      fc.constantFrom(1, 2, 3, 31, 255, 256, 257, 521),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 0, max: 1000 }),
      async (n, m, items, chunk, seed) => await checkBuild(n, m, items, chunk, seed),
    ),
    { numRuns: 12, seed: 17 },
  );
});

gpuTest("sparcode codeIds: mixed radix, all combinations, bad sub-codes", async () => {
  const space = { codesPerSpace: 5, subspaces: 3 };
  const all = allCodes(space);
  const ids = await codeIds(tensor(all, [125, 3], "i32"), space).read();
  assert.deepEqual(Array.from(ids), Array.from({ length: 125 }, (_, i) => i));
  const bad = await codeIds(tensor([1, 5, 0, 0, 0, 0], [2, 3], "i32"), space).read();
  assert.deepEqual(Array.from(bad), [-1, 0]);
  await assert.rejects(checkIndices(), /codeIds.*out-of-range index/);
  assert.throws(
    () => codeIds(tensor([1, 2], [1, 2], "i32"), space),
    /codeIds: codes \[1, 2\], expected \[n, 3\]/,
  );
});

gpuTest("sparcode serve: bad input is named", async () => {
  const space = { codesPerSpace: 2, subspaces: 1 };
  const host = Float32Array.from([1, 0, 2, 3, 0, 1]);
  const index = await buildIndex(
    (c0, k) => tensor(host.slice(c0 * 3, (c0 + k) * 3), [k, 3]),
    space,
    3,
  );
  // A code outside the index adds nothing and is reported.
  const s = await serveScores(index, tensor([0, 2], [1, 2], "i32")).read();
  assert.deepEqual(Array.from(s), [1, 0, 2]);
  await assert.rejects(checkIndices(), /serveScores/);
  // A user with no tokens.
  assert.throws(
    () => serveScores(index, tensor(new Int32Array(0), [2, 0], "i32")),
    /serveScores: code ids \[2, 0\]: a query with no tokens/,
  );
  disposeIndex(index);
  await assert.rejects(
    buildIndex((_c0, k) => tensor(new Float32Array(k * 2), [k, 2]), space, 3),
    /buildIndex: scoreChunk\(0, 2\) returned f32 \[2, 2\], expected f32 \[2, 3\]/,
  );
});
