// MLM utilities: masking statistics (15% of real tokens picked, of them 80% [MASK], 10%
// random, 10% kept; specials never picked), determinism and errors; MlmHead's loss against a
// CPU computation of the same cross-entropy; the word tokenizer.
import fc from "npm:fast-check@3";
import { maskTokens, MlmHead, readAll, Rng, tensor, tidy, WordTokenizer } from "../../internal.ts";
import { assert, assertClose, gpuTest, randArray } from "../helpers.ts";

const V = 1000, MASK = 4, FIRST = 5;

function corpus(rows: number, L: number, seed: number): Int32Array {
  const r = new Rng(seed);
  const ids = new Int32Array(rows * L);
  for (let i = 0; i < rows; i++) {
    const n = 1 + r.int(L); // [CLS] + words, then padding 0
    ids[i * L] = 2;
    for (let c = 1; c < n; c++) ids[i * L + c] = FIRST + r.int(V - FIRST);
  }
  return ids;
}

Deno.test("maskTokens: 15% picked, 80/10/10 replacement, specials untouched", () => {
  const L = 16;
  const ids = corpus(4000, L, 1);
  const m = maskTokens(ids, L, new Rng(2), {
    vocabSize: V,
    maskId: MASK,
    firstWord: FIRST,
    atLeastOne: false,
  });
  let words = 0;
  for (const id of ids) words += id >= FIRST ? 1 : 0;
  const n = m.positions.length;
  // Binomial(words, 0.15): 5 standard deviations.
  const sd = Math.sqrt(words * 0.15 * 0.85);
  assert.ok(Math.abs(n - 0.15 * words) < 5 * sd, `picked ${n} of ${words}`);
  let masked = 0, same = 0, other = 0;
  m.positions.forEach((p, i) => {
    assert.ok(ids[p] >= FIRST, "a special token was picked");
    assert.equal(m.targets[i], ids[p]);
    if (m.inputs[p] === MASK) masked++;
    else if (m.inputs[p] === ids[p]) same++;
    else other++;
  });
  const share = (k: number, p: number) =>
    assert.ok(Math.abs(k - p * n) < 5 * Math.sqrt(n * p * (1 - p)), `${k} of ${n}, expected ${p}`);
  share(masked, 0.8);
  share(other, 0.1 * (1 - 1 / (V - FIRST))); // a random word equal to the original counts as kept
  share(same, 0.1 + 0.1 / (V - FIRST));
  // Unpicked positions are unchanged, positions ascend.
  const picked = new Set(m.positions);
  ids.forEach((id, p) => picked.has(p) || assert.equal(m.inputs[p], id));
  for (let i = 1; i < n; i++) assert.ok(m.positions[i] > m.positions[i - 1]);
});

Deno.test("maskTokens: property — targets, specials and the at-least-one rule", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 2, max: 7 }),
      fc.integer({ min: 0, max: 1e6 }),
      (rows, L, seed) => {
        const ids = corpus(rows, L, seed);
        const m = maskTokens(ids, L, new Rng(seed + 1), {
          vocabSize: V,
          maskId: MASK,
          firstWord: FIRST,
        });
        for (let r = 0; r < rows; r++) {
          const hasWord = ids.subarray(r * L, (r + 1) * L).some((x) => x >= FIRST);
          const n = m.positions.filter((p) => Math.floor(p / L) === r).length;
          if (hasWord) assert.ok(n >= 1, `row ${r} has words but nothing picked`);
          else assert.equal(n, 0);
        }
        m.positions.forEach((p, i) => assert.equal(m.targets[i], ids[p]));
        // Same seed, same masking.
        const again = maskTokens(ids, L, new Rng(seed + 1), {
          vocabSize: V,
          maskId: MASK,
          firstWord: FIRST,
        });
        assert.deepEqual(again.inputs, m.inputs);
      },
    ),
    { numRuns: 60, seed: 3 },
  );
});

Deno.test("maskTokens: bad input is named", () => {
  const r = new Rng(0);
  assert.throws(
    () => maskTokens(new Int32Array(5), 2, r, { vocabSize: V, maskId: MASK }),
    /maskTokens: 5 ids are not rows of length L = 2/,
  );
  assert.throws(
    () => maskTokens(Int32Array.from([2, V]), 2, r, { vocabSize: V, maskId: MASK }),
    /maskTokens: id 1000 at row 0, column 1 is outside the vocabulary of 1000/,
  );
  assert.throws(
    () => maskTokens(new Int32Array(2), 2, r, { vocabSize: V, maskId: MASK, maskShare: 0.95 }),
    /maskShare \+ randomShare ≤ 1/,
  );
});

Deno.test("WordTokenizer: corpus vocabulary, [CLS] rows, truncation, unknown words", () => {
  const tok = WordTokenizer.fit(["Toy Story Animation", "toy soldiers", "Don't look"], {
    minCount: 1,
  });
  assert.deepEqual(tok.tokens.slice(0, 6), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "toy"]);
  const r = tok.encode(["toy story zebra", "don't look toy soldiers now"], 4);
  assert.deepEqual(Array.from(r.lengths), [4, 4]);
  assert.deepEqual(Array.from(r.ids.slice(0, 4)), [2, tok.id("toy"), tok.id("story"), 1]);
  assert.equal(r.ids[5], tok.id("don't"));
  assert.throws(() => tok.encode(["x"], 1), /row length 1, expected an integer ≥ 2/);
});

gpuTest("MlmHead: loss is the cross-entropy of the picked positions (CPU reference)", async () => {
  const B = 2, L = 3, E = 4, Vs = 7;
  const head = new MlmHead(E, Vs, 5);
  const h = randArray(B * L * E, 1);
  const words = randArray(Vs * E, 2);
  const batch = { positions: Int32Array.from([1, 4, 5]), targets: Int32Array.from([3, 0, 6]) };
  const [loss, logits] = await readAll(tidy(() => {
    const r = head.loss(tensor(h, [B, L, E]), tensor(words, [Vs, E]), batch);
    return [r.loss, r.logits];
  }));
  let ce = 0;
  batch.positions.forEach((_, i) => {
    const row = Array.from(logits.slice(i * Vs, (i + 1) * Vs));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
    ce += lse - row[batch.targets[i]];
  });
  assertClose(loss, [ce / 3], { atol: 1e-5, rtol: 1e-4 });
  // The logits: LayerNorm(GELU(dense(h))) · wordsᵀ + bias, checked through a different path.
  const [ref] = await readAll(tidy(() => [
    head.logits(tensor(h.slice(4, 8), [1, E]), tensor(words, [Vs, E])),
  ]));
  assertClose(logits.slice(0, Vs), ref);
  head.dispose();
});
