import assert from "node:assert/strict";
import fc from "npm:fast-check@3";
import {
  auc,
  gauc,
  hitAtK,
  logLoss,
  mapAtK,
  mrrAtK,
  ndcgAtK,
  precisionAtK,
  rankingMetrics,
  recallAtK,
} from "../../src/metrics/mod.ts";
import { topKFromScores, topKShared } from "../../src/metrics/topk.ts";
import { toCsr } from "../../src/data/types.ts";

const golden = JSON.parse(
  Deno.readTextFileSync(new URL("../fixtures/metrics_golden.json", import.meta.url)),
);

function close(a: number, b: number, tol = 1e-12, msg = "") {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${msg}: ${a} vs ${b}`);
}

Deno.test("ranking metrics match a hand-computed case", () => {
  const topK = [[1, 2, 3, 4, 5], [7, 8, 9], [1, 2, 3, 4, 5]];
  const truth = [new Set([2, 5, 9]), [7], []]; // the third user has no ground truth: skipped
  const r5 = rankingMetrics(topK, truth, [1, 5]);
  assert.equal(r5.users, 2);
  const d = (r: number) => 1 / Math.log2(r + 1);
  const u1 = {
    recall: 2 / 3,
    precision: 2 / 5,
    hit: 1,
    mrr: 1 / 2,
    ndcg: (d(2) + d(5)) / (d(1) + d(2) + d(3)),
    map: (1 / 2 + 2 / 5) / 3,
  };
  // User 2's list is shorter than K: missing positions never hit, precision still divides by K.
  const u2 = { recall: 1, precision: 1 / 5, hit: 1, mrr: 1, ndcg: 1, map: 1 };
  for (const m of ["recall", "precision", "hit", "mrr", "ndcg", "map"] as const) {
    close(r5[`${m}@5`], (u1[m] + u2[m]) / 2, 1e-12, m);
  }
  close(r5["recall2@5"], 3 / 4, 1e-12, "recall2"); // (2 + 1) hits over (3 + 1) truths
  // @1: user 1 misses (item 1), user 2 hits.
  for (const m of ["recall", "precision", "hit", "mrr", "ndcg", "map"] as const) {
    close(r5[`${m}@1`], 0.5, 1e-12, m);
  }
  close(recallAtK(topK, truth, 5), r5["recall@5"]);
  close(ndcgAtK(topK, truth, 5), r5["ndcg@5"]);
  close(precisionAtK(topK, truth, 5), r5["precision@5"]);
  close(hitAtK(topK, truth, 5), r5["hit@5"]);
  close(mrrAtK(topK, truth, 5), r5["mrr@5"]);
  close(mapAtK(topK, truth, 5), r5["map@5"]);
});

Deno.test("ranking metrics match MMRec's numpy implementation (golden fixture)", () => {
  const g = golden.ranking;
  const rows = g.topK.map((r: number[]) => Int32Array.from(r));
  const got = rankingMetrics(rows, g.truth, g.ks);
  for (const [key, want] of Object.entries(g.expected as Record<string, number>)) {
    close(got[key], want, 1e-12, key);
  }
  assert.equal(got.users, g.topK.length);
});

Deno.test("rankingMetrics rejects mismatched inputs", () => {
  assert.throws(() => rankingMetrics([[1]], [], [1]), /1 ranked lists but 0 ground-truth sets/);
  assert.throws(() => rankingMetrics([[1]], [[1]], [0]), /positive integers/);
});

Deno.test("AUC, GAUC and LogLoss match hand-computed values", () => {
  close(auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
  close(auc([0, 1], [0.5, 0.5]), 0.5); // a tie counts one half
  close(auc([1, 0, 1], [Infinity, -Infinity, Infinity]), 1);
  const g = gauc([0, 1, 0, 1, 1, 1], [0.1, 0.9, 0.8, 0.2, 0.5, 0.6], [0, 0, 1, 1, 2, 2]);
  // group 0: AUC 1 (weight 2); group 1: AUC 0 (weight 2); group 2: single class, skipped.
  assert.deepEqual(g, { gauc: 0.5, groups: 2, skipped: 1 });
  close(logLoss([1, 0], [0.8, 0.3]), -(Math.log(0.8) + Math.log(0.7)) / 2);
  close(logLoss([1], [0]), -Math.log(1e-7)); // clipped, finite
  assert.throws(() => auc([1, 1], [0.2, 0.3]), /only one class/);
  assert.throws(() => auc([0, 2], [0.2, 0.3]), /labels\[1\] = 2, expected 0 or 1/);
  assert.throws(() => logLoss([0], [1.5]), /probs\[0\] = 1.5/);
  assert.throws(() => gauc([0, 1], [0, 1], [0]), /2 labels but 1 group ids/);
});

Deno.test("CTR metrics match scikit-learn (golden fixture)", () => {
  const c = golden.ctr;
  close(auc(c.labels, c.scores), c.auc);
  const g = gauc(c.labels, c.scores, c.groups);
  close(g.gauc, c.gauc);
  assert.equal(g.groups, c.gaucGroups);
  assert.equal(g.skipped, c.gaucSkipped);
  close(logLoss(c.labels, c.probs), c.logloss);
  close(logLoss(Float32Array.from(c.labels), Float64Array.from(c.probs)), c.logloss);
});

const rankingCase = fc.integer({ min: 2, max: 30 }).chain((numItems) =>
  fc.record({
    numItems: fc.constant(numItems),
    k: fc.integer({ min: 1, max: numItems }),
    users: fc.array(
      fc.record({
        perm: fc.shuffledSubarray([...Array(numItems).keys()], {
          minLength: numItems,
          maxLength: numItems,
        }),
        truth: fc.uniqueArray(fc.integer({ min: 0, max: numItems - 1 }), {
          minLength: 1,
          maxLength: numItems,
        }),
      }),
      { minLength: 1, maxLength: 8 },
    ),
  })
);

Deno.test("property: ranking metrics lie in [0, 1] and a perfect ranking scores 1", () => {
  fc.assert(
    fc.property(rankingCase, ({ k, users }) => {
      const truth = users.map((u) => u.truth);
      const r = rankingMetrics(users.map((u) => u.perm), truth, [k]);
      for (const [key, v] of Object.entries(r)) {
        if (key !== "users") assert.ok(v >= 0 && v <= 1 + 1e-12, key);
      }
      // Truth items first (in any order), then the rest.
      const perfect = users.map((u) => [...u.truth, ...u.perm.filter((i) => !u.truth.includes(i))]);
      const p = rankingMetrics(perfect, truth, [k]);
      for (const m of ["ndcg", "map", "hit", "mrr"]) close(p[`${m}@${k}`], 1, 1e-12, m);
      const wantRecall = truth.reduce((a, t) => a + Math.min(t.length, k) / t.length, 0) /
        truth.length;
      close(p[`recall@${k}`], wantRecall, 1e-12, "recall");
      // Recall and hit never decrease with K.
      const r2 = rankingMetrics(users.map((u) => u.perm), truth, [k, k + 1]);
      assert.ok(r2[`recall@${k + 1}`] >= r2[`recall@${k}`]);
      assert.ok(r2[`hit@${k + 1}`] >= r2[`hit@${k}`]);
    }),
    { numRuns: 200 },
  );
});

Deno.test("property: AUC is rank-based, flips under negation, and equals the pair count", () => {
  const arb = fc.array(
    fc.record({ y: fc.integer({ min: 0, max: 1 }), s: fc.integer({ min: -5, max: 5 }) }),
    {
      minLength: 2,
      maxLength: 40,
    },
  ).filter((a) => a.some((x) => x.y === 1) && a.some((x) => x.y === 0));
  fc.assert(
    fc.property(arb, (rows) => {
      const y = rows.map((r) => r.y);
      const s = rows.map((r) => r.s);
      const a = auc(y, s);
      let pairs = 0;
      let n = 0;
      for (const p of rows) {
        for (const q of rows) {
          if (p.y === 1 && q.y === 0) {
            n++;
            pairs += p.s > q.s ? 1 : p.s === q.s ? 0.5 : 0;
          }
        }
      }
      close(a, pairs / n);
      close(auc(y, s.map((v) => Math.exp(v) * 3 + 1)), a); // monotone transform
      close(auc(y, s.map((v) => -v)), 1 - a);
      // GAUC with a single group is the AUC.
      close(gauc(y, s, new Int32Array(y.length)).gauc, a);
    }),
    { numRuns: 200 },
  );
});

function bruteTopK(scores: number[], k: number, exclude: Set<number>): number[] {
  return scores.map((s, i) => [s, i] as const)
    .filter(([s, i]) => !exclude.has(i) && !Number.isNaN(s))
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

Deno.test("property: topKFromScores matches a full sort with exclusion and ties by id", () => {
  const arb = fc.integer({ min: 1, max: 25 }).chain((numItems) =>
    fc.record({
      numItems: fc.constant(numItems),
      k: fc.integer({ min: 1, max: numItems + 2 }),
      rows: fc.array(
        fc.record({
          scores: fc.array(fc.integer({ min: -3, max: 3 }), {
            minLength: numItems,
            maxLength: numItems,
          }),
          ex: fc.uniqueArray(fc.integer({ min: 0, max: numItems - 1 }), { maxLength: numItems }),
        }),
        { minLength: 1, maxLength: 5 },
      ),
    })
  );
  fc.assert(
    fc.property(arb, ({ numItems, k, rows }) => {
      const flat = Float32Array.from(rows.flatMap((r) => r.scores));
      const users = rows.flatMap((r, u) => r.ex.map(() => u));
      const csr = toCsr(users, rows.flatMap((r) => r.ex), rows.length, numItems);
      const got = topKFromScores(flat, numItems, k, csr);
      const sets = rows.map((r) => new Set(r.ex));
      const gotSets = topKFromScores(flat, numItems, k, sets);
      rows.forEach((r, u) => {
        const want = bruteTopK(r.scores, k, sets[u]);
        assert.deepEqual([...got[u]], want);
        assert.deepEqual([...gotSets[u]], want);
      });
      // Shared scores (row 0 for every user).
      const shared = topKShared(rows[0].scores, rows.length, k, csr);
      rows.forEach((_, u) =>
        assert.deepEqual([...shared[u]], bruteTopK(rows[0].scores, k, sets[u]))
      );
    }),
    { numRuns: 200 },
  );
});

Deno.test("topKFromScores skips NaN and maps batch rows to users", () => {
  const scores = new Float32Array([NaN, 1, 2, 3, 0, 1]);
  const csr = toCsr([0, 1], [2, 0], 2, 3);
  // Score row 0 belongs to user 1 (excludes item 0), row 1 to user 0 (excludes item 2).
  const got = topKFromScores(scores, 3, 3, csr, [1, 0]);
  assert.deepEqual([...got[0]], [2, 1]);
  assert.deepEqual([...got[1]], [0, 1]);
  assert.throws(() => topKFromScores(scores, 4, 1), /not a multiple of 4 items/);
  assert.throws(() => topKFromScores(scores, 3, 1, csr, [0, 2]), /user 2 is out of range \[0, 2\)/);
  assert.throws(() => topKShared([1, 2], 3, 1, csr), /user 2 is out of range/);
});
