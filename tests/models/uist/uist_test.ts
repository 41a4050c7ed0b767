// UIST: the semantic tokenizer (official no-STE and STE variants) and the HMI predictor, one
// step (loss and every gradient) against PyTorch (fixtures/make_uist.py); bad input.
import { assert, assertClose, gpuTest } from "../../helpers.ts";
import { backward, tensor, tidy } from "../../../internal.ts";
import { bceWithLogits } from "../../../src/ops/losses/ranking.ts";
import type { Module } from "../../../src/nn/module.ts";
import { readNpy } from "../../../src/io/npy.ts";
import {
  compression,
  exportNpy,
  HmiPredictor,
  SemanticTokenizer,
  tokenBatch,
  UistCtr,
} from "../../../src/models/uist/mod.ts";

type Case = {
  loss: number;
  extra: Record<string, number | number[]>;
  params: Record<string, { shape: number[]; data: number[] }>;
  grads: Record<string, number[]>;
};
const fx = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/uist_step.json", import.meta.url)),
);
const c = fx.config;

function load(model: Module, k: Case): void {
  const names = model.namedParameters().map(([n]) => n).sort();
  assert.deepEqual(names, Object.keys(k.params).sort(), "parameter names match PyTorch's");
  for (const [n, p] of Object.entries(k.params)) {
    model.setParameter(n, tensor(Float32Array.from(p.data), p.shape));
  }
}

async function checkGrads(model: Module, k: Case, what: string): Promise<void> {
  for (const [n, p] of model.namedParameters()) {
    const g = p.grad ? await p.grad.read() : new Float32Array(p.size);
    assertClose(g, k.grads[n], { atol: 2e-5, rtol: 1e-3, msg: `${what} grad ${n}` });
  }
}

for (const ste of [false, true]) {
  gpuTest(
    `uist tokenizer (${ste ? "STE" : "official no-STE"}): one step matches PyTorch`,
    async () => {
      const k: Case = fx.cases[ste ? "tokenizer_ste" : "tokenizer_noste"];
      const tok = new SemanticTokenizer({
        vocabSize: c.V,
        dim: c.D,
        attnHidden: c.AH,
        depth: c.DEPTH,
        numCodes: c.NC,
        beta: c.BETA,
        straightThrough: ste,
      });
      load(tok, k);
      tok.zeroGrad();
      const out = tidy(() => {
        const o = tok.forward(tokenBatch(c.seqs));
        backward(o.loss);
        return [o.loss, o.parts.gen, o.parts.quant, o.parts.recon];
      });
      const [loss, gen, quant, recon] = await Promise.all(out.map((t) => t.read()));
      assertClose(loss, [k.loss], { atol: 1e-5, msg: "loss" });
      assertClose([gen[0], quant[0], recon[0]], [
        k.extra.gen as number,
        k.extra.quant as number,
        k.extra.recon as number,
      ], { atol: 1e-5, msg: "parts" });
      await checkGrads(tok, k, ste ? "STE" : "no-STE");
      if (!ste) {
        // No-STE: the decoder's gradient reaches the codebooks.
        const g = await tok.rq.levels[0].codebook.grad!.read();
        assert.ok(g.some((v) => v !== 0));
      }
    },
  );
}

gpuTest("uist HMI predictor: one BCE step matches PyTorch", async () => {
  const k: Case = fx.cases.hmi;
  const hmi = new HmiPredictor({
    userLevels: c.SU,
    itemLevels: c.SI,
    userCodes: c.KU,
    itemCodes: c.KI,
    dim: c.HD,
    crossLayers: 2,
    hidden: c.HID,
  });
  load(hmi, k);
  hmi.zeroGrad();
  const [logits, loss] = tidy(() => {
    const lg = hmi.forward(
      tensor(Int32Array.from(c.utok.flat()), [c.utok.length, c.SU], "i32"),
      tensor(Int32Array.from(c.itok.flat()), [c.itok.length, c.SI], "i32"),
    );
    const l = bceWithLogits(lg, tensor(Float32Array.from(c.labels), [c.labels.length]));
    backward(l);
    return [lg, l];
  });
  assertClose(await logits.read(), k.extra.logits as number[], { atol: 1e-5, msg: "logits" });
  assertClose(await loss.read(), [k.loss], { atol: 1e-5, msg: "loss" });
  await checkGrads(hmi, k, "HMI");
});

gpuTest("uist: bad input is named", () => {
  assert.throws(() => tokenBatch([[1, 2], []]), /sequence 1 is empty/);
  const tok = new SemanticTokenizer({ vocabSize: 5, dim: 4, attnHidden: 4, depth: 2, numCodes: 4 });
  assert.throws(() => tok.forward(tokenBatch([[1, 7]])), /indexTensor: value 7 .* 5 rows/);
  assert.throws(
    () => new SemanticTokenizer({ vocabSize: 5, dim: 4, depth: 3, numCodes: 4 }),
    /numCodes 4 must split evenly over depth 3/,
  );
  const hmi = new HmiPredictor({ userLevels: 2, itemLevels: 2, userCodes: 3, itemCodes: 3 });
  assert.throws(
    () => hmi.forward(tensor([0, 1, 2], [1, 3], "i32"), tensor([0, 1], [1, 2], "i32")),
    /HmiPredictor: user tokens \[1, 3\] and item tokens \[1, 2\], expected \[B, 2\] and \[B, 2\]/,
  );
});

gpuTest("uist: compression arithmetic and token tables checked against the codebooks", () => {
  const r = compression({
    users: 1000,
    items: 3000,
    dim: 64,
    userLevels: 3,
    itemLevels: 3,
    userCodes: 64,
    itemCodes: 64,
    hmiDim: 16,
  });
  assert.equal(r.denseBytes, 4000 * 64 * 4);
  assert.equal(r.tokenBytes, Math.ceil((4000 * 3 * 6) / 8)); // 6 bits per 64-code level
  assert.equal(r.tokenTableBytes, 2 * 3 * 64 * 16 * 4);
  assert.ok(Math.abs(r.ratioTokens - (4000 * 256) / 9000) < 1e-9);
  const cfg = { userLevels: 2, itemLevels: 2, userCodes: 3, itemCodes: 3 };
  assert.throws(
    () => new UistCtr({ user: Int32Array.from([0, 6]), item: Int32Array.from([0, 1]) }, cfg, 0, 1),
    /user token 6 at position 1 is outside the 6 token rows/,
  );
});

gpuTest("uist: codes and codebooks export as .npy", () => {
  const codes = Int32Array.from([0, 2, 1, 1, 0, 2]);
  const books = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i / 7);
  const out = exportNpy(codes, 2, books, 3);
  const c = readNpy(out.codes);
  assert.deepEqual([c.shape, Array.from(c.data as Int32Array)], [[3, 2], Array.from(codes)]);
  const b = readNpy(out.codebooks);
  assert.deepEqual(b.shape, [2, 3, 4]);
  assert.deepEqual(Array.from(b.data as Float32Array), Array.from(books));
  assert.throws(() => exportNpy(codes, 4, books, 3), /exportNpy: 6 codes/);
});
