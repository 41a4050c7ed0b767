// Baselines, evaluation, stage 1 and the training loop of src/models: LightGCN and VBPR losses
// and gradients against PyTorch (tests/models/fixtures/make_baselines.py), zero-shot and item-CF
// metrics against a CPU reference, the ICA encoder, and exact checkpoint resumption.
import {
  backward,
  concatFeatures,
  featuresFromNpy,
  fit,
  formatProgress,
  itemCfMetrics,
  LightGCN,
  maskedItems,
  readAll,
  recommend,
  tensor,
  tidy,
  trainData,
  trainIca,
  tripletTensors,
  VBPR,
  zeroRows,
  zeroShotMetrics,
} from "../../internal.ts";
import { writeNpy } from "../../src/io/npy.ts";
import { loadFeatureFile } from "../../src/files.ts";
import { rankingMetrics } from "../../src/metrics/ranking.ts";
import { topKFromScores } from "../../src/metrics/topk.ts";
import { type Csr, type Interactions, userItemCsr } from "../../src/data/types.ts";
import { generateSynthetic } from "../../src/data/synthetic.ts";
import { assert, assertClose, gpuTest, randArray } from "../helpers.ts";

const g = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/baselines_step.json", import.meta.url)),
);
const S = g.sizes;
const goldenTrain: Interactions = {
  users: Int32Array.from(g.train.users),
  items: Int32Array.from(g.train.items),
  numUsers: S.users,
  numItems: S.items,
};
const goldenBatch = {
  users: Int32Array.from(g.batch.users),
  pos: Int32Array.from(g.batch.pos),
  neg: Int32Array.from(g.batch.neg),
};

async function checkStep(
  model: LightGCN | VBPR,
  golden: {
    params: Record<string, { shape: number[]; data: number[] }>;
    loss: number;
    grads: Record<string, number[]>;
  },
) {
  tidy(() => {
    for (const [n, p] of Object.entries(golden.params)) {
      model.setParameter(n, tensor(Float32Array.from(p.data), p.shape));
    }
  });
  assert.deepEqual(
    model.namedParameters().map(([n]) => n).sort(),
    Object.keys(golden.params).sort(),
  );
  const loss = tidy(() => {
    const { loss } = model.loss(tripletTensors(goldenBatch, S.users, S.items));
    backward(loss);
    return loss;
  });
  assertClose([await loss.item()], [golden.loss], { rtol: 1e-5, msg: `${model.name} loss` });
  const named = model.namedParameters();
  const grads = await readAll(named.map(([, p]) => p.grad!));
  named.forEach(([n], i) =>
    assertClose(grads[i], golden.grads[n], { atol: 1e-6, rtol: 1e-4, msg: n })
  );
  loss.dispose();
  model.dispose();
}

gpuTest("LightGCN: loss and gradients of one batch match PyTorch (MMRec)", async () => {
  await checkStep(
    new LightGCN(goldenTrain, { embeddingSize: S.dim, regWeight: g.reg }),
    g.lightgcn,
  );
});

gpuTest("VBPR: loss and gradients of one batch match PyTorch (MMRec)", async () => {
  const m = new VBPR(goldenTrain, Float32Array.from(g.features), {
    embeddingSize: S.dim,
    regWeight: g.reg,
  });
  await checkStep(m, g.vbpr);
});

gpuTest("tripletTensors rejects out-of-range ids and mismatched lengths", () => {
  assert.throws(
    () =>
      tidy(() =>
        void tripletTensors(
          { ...goldenBatch, pos: Int32Array.from([0, 1, 2, 3, 99]) },
          S.users,
          S.items,
        )
      ),
    /wgrec indexTensor: value 99/,
  );
  assert.throws(
    () => tripletTensors({ ...goldenBatch, neg: new Int32Array(2) }, S.users, S.items),
    /wgrec tripletTensors: 5 users, 5 positives and 2 negatives/,
  );
});

// --- intermediate metrics vs a CPU reference ------------------------------------------------

function tinyData(seed: number) {
  const U = 23, I = 37, d = 6;
  const feats = randArray(I * d, seed);
  const users: number[] = [], items: number[] = [];
  const tu: number[] = [], ti: number[] = [];
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let u = 0; u < U; u++) {
    const picked = new Set<number>();
    while (picked.size < 6) picked.add(Math.floor(rand() * I));
    [...picked].forEach((
      i,
      k,
    ) => (k < 4 ? (users.push(u), items.push(i)) : (tu.push(u), ti.push(i))));
  }
  const train: Interactions = {
    users: Int32Array.from(users),
    items: Int32Array.from(items),
    numUsers: U,
    numItems: I,
  };
  const test: Interactions = {
    users: Int32Array.from(tu),
    items: Int32Array.from(ti),
    numUsers: U,
    numItems: I,
  };
  return { U, I, d, feats, train, test, csr: userItemCsr(train) };
}

function cpuCos(f: Float32Array, I: number, d: number): Float64Array {
  const n = new Float64Array(I * d);
  for (let i = 0; i < I; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += f[i * d + k] ** 2;
    for (let k = 0; k < d; k++) n[i * d + k] = f[i * d + k] / Math.sqrt(s);
  }
  const c = new Float64Array(I * I);
  for (let i = 0; i < I; i++) {
    for (let j = 0; j < I; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += n[i * d + k] * n[j * d + k];
      c[i * I + j] = s;
    }
  }
  return c;
}

function cpuMetrics(scores: Float64Array, U: number, I: number, csr: Csr, test: Interactions) {
  const truth = Array.from({ length: U }, () => new Set<number>());
  for (let j = 0; j < test.users.length; j++) truth[test.users[j]].add(test.items[j]);
  const top = topKFromScores(scores, I, 20, csr);
  return rankingMetrics(top, truth, [5, 20], { metrics: ["recall", "ndcg", "precision", "map"] });
}

gpuTest(
  "zero-shot metrics equal the CPU reference (mean of normalised history, cosine)",
  async () => {
    const { U, I, d, feats, test, csr } = tinyData(3);
    const cos = cpuCos(feats, I, d);
    const scores = new Float64Array(U * I);
    for (let u = 0; u < U; u++) {
      // Cosine to the mean of normalised history rows ranks like the sum of cosines.
      for (let j = csr.indptr[u]; j < csr.indptr[u + 1]; j++) {
        for (let i = 0; i < I; i++) scores[u * I + i] += cos[csr.indices[j] * I + i];
      }
    }
    const want = cpuMetrics(scores, U, I, csr, test);
    const got = await zeroShotMetrics(feats, csr, test, [5, 20]);
    for (const k of ["recall@5", "recall@20", "ndcg@20", "precision@20", "map@20"]) {
      assertClose([got[k]], [want[k]], { atol: 1e-9, msg: k });
    }
  },
);

gpuTest(
  "item-CF metrics equal the CPU reference (top-k neighbours, summed similarity)",
  async () => {
    const { U, I, d, feats, test, csr } = tinyData(5);
    const k = 7;
    const cos = cpuCos(feats, I, d);
    const s = new Float64Array(I * I);
    for (let j = 0; j < I; j++) {
      const order = [...Array(I).keys()].filter((i) => i !== j)
        .sort((a, b) => cos[j * I + b] - cos[j * I + a] || a - b);
      for (const i of order.slice(0, k)) s[j * I + i] = cos[j * I + i];
    }
    const scores = new Float64Array(U * I);
    for (let u = 0; u < U; u++) {
      for (let p = csr.indptr[u]; p < csr.indptr[u + 1]; p++) {
        for (let i = 0; i < I; i++) scores[u * I + i] += s[csr.indices[p] * I + i];
      }
    }
    // Items no history neighbour reaches score 0 on both sides; ties go to the lower id.
    const want = cpuMetrics(scores, U, I, csr, test);
    const got = await itemCfMetrics(feats, csr, test, [5, 20], { neighbours: k });
    for (const key of ["recall@5", "recall@20", "ndcg@20", "map@20"]) {
      assertClose([got[key]], [want[key]], { atol: 1e-9, msg: key });
    }
  },
);

gpuTest("maskedItems and zeroRows pick ⌊ratio·I⌋ items and zero exactly their rows", () => {
  const flags = maskedItems(101, 0.5, 3);
  assert.equal(flags.reduce((a, b) => a + b, 0), 50);
  assert.deepEqual(maskedItems(101, 0.5, 3), flags);
  const f = randArray(101 * 3, 1);
  const z = zeroRows(f, 3, flags);
  for (let i = 0; i < 101; i++) {
    for (let c = 0; c < 3; c++) assert.equal(z[i * 3 + c], flags[i] ? 0 : f[i * 3 + c]);
  }
  assert.throws(() => maskedItems(10, 1.5), /wgrec maskedItems: ratio 1.5/);
  assert.throws(() => zeroRows(f, 4, flags), /wgrec zeroRows: 303 values are not 101 rows of 4/);
});

// --- stage 1 --------------------------------------------------------------------------------

gpuTest(
  "ICA: training lowers the loss; masking a modality changes only the masked items",
  async () => {
    const ds = generateSynthetic({
      seed: 2,
      numUsers: 50,
      numItems: 120,
      numInteractions: 600,
      imageDim: 12,
      textDim: 10,
    });
    const img = { data: ds.imageFeat, dim: 12 }, txt = { data: ds.textFeat, dim: 10 };
    const r = await trainIca(img, txt, {
      epochs: 25,
      batchSize: 40,
      hidden: 32,
      dim: 16,
      lr: 3e-3,
    });
    assert.equal(r.features.dim, 16);
    assert.equal(r.features.data.length, 120 * 16);
    const first = r.history[0].loss, last = r.history.at(-1)!.loss;
    assert.ok(last < 0.9 * first, `ICA loss ${first} → ${last} should drop`);
    const flags = maskedItems(120, 0.5, 4);
    const masked = await r.encoder.features(img, txt, { image: flags });
    for (let i = 0; i < 120; i++) {
      const a = r.features.data.subarray(i * 16, (i + 1) * 16);
      const b = masked.data.subarray(i * 16, (i + 1) * 16);
      const same = a.every((v, j) => v === b[j]);
      assert.equal(same, !flags[i], `item ${i} (masked ${flags[i]})`);
    }
    // Precomputed features round-trip through .npy, as the official stage-1 output does.
    const back = featuresFromNpy(writeNpy({ shape: [120, 16], data: r.features.data }));
    assert.equal(back.dim, 16);
    assert.deepEqual(back.data, r.features.data);
    const file = await Deno.makeTempFile({ suffix: ".npy" });
    await Deno.writeFile(file, writeNpy({ shape: [120, 16], data: r.features.data }));
    assert.deepEqual((await loadFeatureFile(file)).data, r.features.data);
    await Deno.remove(file);
    assert.throws(
      () => featuresFromNpy(writeNpy({ shape: [8], data: new Float32Array(8) })),
      /expected a 2-D float array/,
    );
    const both = concatFeatures(img, txt);
    assert.equal(both.dim, 22);
    assert.equal(both.data[22 + 12], txt.data[10]);
    r.encoder.dispose();
  },
);

// --- training loop --------------------------------------------------------------------------

gpuTest(
  "recommend: top-k of user·item scores without excluded items; bad ids refused",
  async () => {
    const nu = 7, ni = 53, d = 5, k = 10;
    const ue = randArray(nu * d, 11), ie = randArray(ni * d, 12);
    const model = {
      embeddings: () => ({ users: tensor(ue, [nu, d]), items: tensor(ie, [ni, d]) }),
    };
    // User u already has items u, u+7, u+14 (excluded).
    const indptr = Int32Array.from({ length: nu + 1 }, (_, u) => 3 * u);
    const indices = Int32Array.from({ length: 3 * nu }, (_, j) => Math.floor(j / 3) + 7 * (j % 3));
    const exclude: Csr = { indptr, indices, numRows: nu, numCols: ni };
    const users = [6, 0, 3];
    const got = await recommend(model, users, k, exclude);
    users.forEach((u, r) => {
      const seen = new Set(indices.subarray(3 * u, 3 * u + 3));
      const score = (i: number) => {
        let s = 0;
        for (let c = 0; c < d; c++) s += ue[u * d + c] * ie[i * d + c];
        return s;
      };
      const want = Array.from({ length: ni }, (_, i) => i).filter((i) => !seen.has(i))
        .sort((a, b) => score(b) - score(a)).slice(0, k);
      assert.deepEqual([...got[r]], want, `user ${u}`);
    });
    await assert.rejects(() => recommend(model, [nu], k), /wgrec recommend: user id 7 .* < 7/);
  },
);

gpuTest(
  "fit: a run resumed from its checkpoint ends exactly like the uninterrupted run",
  async () => {
    const ds = generateSynthetic({ seed: 4, numUsers: 80, numItems: 60, numInteractions: 900 });
    const data = trainData(ds.split);
    const opts = { batchSize: 128, lr: 0.01, ks: [20], seed: 5 };
    const dir = await Deno.makeTempDir();
    const full = new LightGCN(ds.split.train, { embeddingSize: 16 });
    const rFull = await fit(full, data, { ...opts, epochs: 4 });
    const part = new LightGCN(ds.split.train, { embeddingSize: 16 });
    await fit(part, data, { ...opts, epochs: 2, checkpoint: `${dir}/ck.safetensors` });
    part.dispose();
    const resumed = new LightGCN(ds.split.train, { embeddingSize: 16 });
    const rRes = await fit(resumed, data, { ...opts, epochs: 4, resume: `${dir}/ck.safetensors` });
    assert.deepEqual(rRes.history.map((h) => h.loss), rFull.history.map((h) => h.loss));
    assert.equal(rRes.bestEpoch, rFull.bestEpoch);
    assert.deepEqual(rRes.test, rFull.test);
    const [a, b] = [await readAll(full.parameters()), await readAll(resumed.parameters())];
    a.forEach((x, i) => assert.deepEqual(x, b[i]));
    full.dispose();
    resumed.dispose();
    await Deno.remove(dir, { recursive: true });
  },
);

gpuTest("formatProgress shows epoch, steps, loss, throughput and ETA", () => {
  const line = formatProgress({
    model: "AlignRec",
    epoch: 2,
    epochs: 10,
    step: 5,
    steps: 20,
    loss: 0.12345,
    samplesPerSec: 1234.4,
    etaSec: 125,
    lr: 1e-3,
    valid: 0.25,
    done: false,
  });
  assert.match(
    line,
    /AlignRec epoch 3\/10 .* 5\/20 {2}loss 0\.1235 {2}1234 samples\/s {2}ETA 2:05 {2}valid 0\.2500/,
  );
});
