// RAR's recall stage and per-request selection: selectFromLists (SimHash XOR-popcount and dot
// scores over each request's own list, target left out) against a CPU reference over awkward
// shapes; item-CF lists against a dense brute-force reference; the two-tower (InfoNCE) lists
// learn a planted structure; mergeRecall interleaves without duplicates.
import { gpuTest, randArray } from "../../helpers.ts";
import assert from "node:assert/strict";
import fc from "npm:fast-check@3";
import { readAll, tensor, tidy } from "../../../internal.ts";
import { selectFromLists } from "../../../src/models/rar/select.ts";
import { Rng } from "../../../src/random.ts";
import {
  itemCfRecall,
  mergeRecall,
  type Positives,
  twoTowerRecall,
} from "../../../src/models/rar/recall.ts";

gpuTest("RAR selectFromLists: SimHash and dot picks equal a CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 2, max: 11 }),
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: 1, max: 5 }),
      fc.constantFrom(1, 3, 33),
      fc.integer({ min: 0, max: 1000 }),
      async (nq, N, extra, d, bits, seed) => {
        const V = N + extra;
        const k = 1 + (seed % (N - 1));
        const q = randArray(nq * d, seed);
        const table = randArray(V * d, seed + 1);
        const w = randArray(d * bits, seed + 2);
        // Distinct items per list (as recall lists are), seeded order; the excluded target is
        // in the list for odd rows, absent for even ones.
        const rng = new Rng(seed);
        const lists = new Int32Array(nq * N);
        for (let i = 0; i < nq; i++) {
          const perm = [...Array(V).keys()];
          for (let j = V - 1; j > 0; j--) {
            const r = rng.int(j + 1);
            [perm[j], perm[r]] = [perm[r], perm[j]];
          }
          lists.set(perm.slice(0, N), i * N);
        }
        const ex = Int32Array.from({ length: nq }, (_, i) => (i % 2 ? lists[i * N] : V + 1));
        let hs: ArrayLike<number> = [];
        let ds: ArrayLike<number> = [];
        await tidy(async () => {
          const args = [
            tensor(q, [nq, d]),
            tensor(table, [V, d]),
            tensor(lists, [nq, N], "i32"),
          ] as const;
          const exclude = tensor(ex, [nq], "i32");
          [hs, ds] = await readAll([
            selectFromLists(...args, k, { planes: tensor(w, [d, bits]), exclude }),
            selectFromLists(...args, k, { method: "dot", exclude }),
          ]);
        });
        const dot = (a: Float32Array, i: number, b: Float32Array, at: (t: number) => number) => {
          let acc = 0;
          for (let t = 0; t < d; t++) acc = Math.fround(acc + Math.fround(a[i * d + t] * b[at(t)]));
          return acc;
        };
        const code = (x: Float32Array, i: number) =>
          [...Array(bits).keys()].map((b) => dot(x, i, w, (t) => t * bits + b) > 0 ? 1 : 0);
        const top = (score: (i: number, item: number) => number) => {
          const out: number[] = [];
          for (let i = 0; i < nq; i++) {
            const js = [...Array(N).keys()].filter((j) => lists[i * N + j] !== ex[i]);
            const s = (j: number) => score(i, lists[i * N + j]);
            js.sort((a, b) => s(b) - s(a) || a - b);
            out.push(...js.slice(0, k).map((j) => lists[i * N + j]));
          }
          return out;
        };
        const ham = (i: number, it: number) => {
          const a = code(q, i);
          const b = code(table, it);
          return -a.reduce((s: number, x, t) => s + (x ^ b[t]), 0);
        };
        assert.deepEqual(Array.from(hs), top(ham), "hamming");
        // Dot: the picked items' scores (near-ties may swap equal-looking items).
        const want = top((i, it) => dot(q, i, table, (t) => it * d + t));
        for (let t = 0; t < want.length; t++) {
          const i = Math.floor(t / k);
          const s = (it: number) => dot(q, i, table, (u) => it * d + u);
          assert.ok(Math.abs(s(ds[t]) - s(want[t])) < 1e-4, `dot ${t}`);
          assert.notEqual(ds[t], ex[i], "target left out");
        }
      },
    ),
    { numRuns: 12 },
  );
});

gpuTest("RAR selectFromLists: bad shapes are refused naming the op", () => {
  tidy(() => {
    const q = tensor(new Float32Array(8), [2, 4]);
    const l = tensor(new Int32Array(6), [2, 3], "i32");
    assert.throws(
      () => selectFromLists(q, q, l, 3, { method: "dot", exclude: tensor([0, 0], [2], "i32") }),
      /rar selectFromLists: .*k = 3; expected .*1 ≤ k ≤ N − 1/,
    );
  });
});

/** Users in 3 taste groups: user u likes items ≡ u (mod 3), seeded picks. */
function planted(U: number, V: number, per: number, seed: number): Positives {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pos = Array.from({ length: U }, (_, u) => {
    if (u === 0) return []; // padding id and a user without positives
    const l: number[] = [];
    while (l.length < per) {
      const i = 1 + Math.floor(rnd() * (V - 1));
      if (i % 3 === u % 3) l.push(i);
    }
    return l;
  });
  return { users: U, items: V, pos };
}

gpuTest("RAR item-CF lists equal a dense brute-force reference", () => {
  const p = planted(9, 17, 4, 3);
  p.pos[5].push(p.pos[5][0]); // a repeat counts once
  const N = 6;
  const got = itemCfRecall(p, N);
  const sets = p.pos.map((l) => new Set(l));
  const deg = (i: number) => sets.filter((s) => s.has(i)).length;
  const count = new Array(17).fill(0);
  for (const l of p.pos) for (const i of l) count[i]++;
  const pop = [...Array(16).keys()].map((j) => j + 1).sort((a, b) => count[b] - count[a] || a - b);
  for (let u = 0; u < 9; u++) {
    const score = (j: number) =>
      [...sets[u]].reduce((acc, i) => {
        if (i === j) return acc;
        const co = sets.filter((s) => s.has(i) && s.has(j)).length;
        return acc + (co ? co / Math.sqrt(deg(i) * deg(j)) : 0);
      }, 0);
    const ranked = [...Array(16).keys()].map((j) => j + 1).filter((j) => score(j) > 0)
      .sort((a, b) => score(b) - score(a) || a - b).slice(0, N);
    for (const j of pop) if (ranked.length < N && !ranked.includes(j)) ranked.push(j);
    assert.deepEqual([...got.ids.subarray(u * N, u * N + N)], ranked, `user ${u}`);
  }
  assert.throws(() => itemCfRecall(p, 17), /itemCfRecall: list length 17 for 17 items/);
});

gpuTest("RAR two-tower recall (in-batch InfoNCE) learns planted tastes", async () => {
  const p = planted(31, 61, 8, 7);
  const N = 10;
  const tt = await twoTowerRecall(p, {
    length: N,
    embeddingSize: 8,
    epochs: 15, // 60 steps: the suite runs on 2 software-GPU cores
    batchSize: 60,
    lr: 0.02,
    seed: 5,
  });
  assert.ok(Number.isFinite(tt.loss), `loss ${tt.loss}`);
  let same = 0;
  for (let u = 0; u < 31; u++) {
    const row = [...tt.ids.subarray(u * N, u * N + N)];
    assert.equal(new Set(row).size, N, `distinct ${u}`);
    assert.ok(row.every((i) => i > 0 && i < 61), `ids ${row}`);
    if (u > 0) same += row.filter((i) => i % 3 === u % 3).length;
  }
  // Chance is 1/3 of the list in the user's group; the towers should find most of it.
  assert.ok(same / (30 * N) > 0.6, `in-group share ${same / (30 * N)}`);
  const cf = itemCfRecall(p, N);
  const both = mergeRecall(tt, cf, N);
  for (let u = 0; u < 31; u++) {
    const row = [...both.ids.subarray(u * N, u * N + N)];
    assert.equal(new Set(row).size, N);
    assert.equal(row[0], tt.ids[u * N]);
    assert.ok(row.includes(cf.ids[u * N]), "item-CF's best is kept");
  }
});
