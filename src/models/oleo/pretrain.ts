/**
 * Stage 1 as a pretraining model (runner name `textmlm`): the news encoder learns masked-
 * language modelling on the item text (spec §4.2: `tasks: [mlm]`, news split 8:2), probed by
 * the masked-token accuracy on the held-out 20% with a fixed masking; {@link TextMlm.export}
 * is the "encode once" step (one vector per item, written to `.npy` by the caller).
 * @module
 */

import { argmax } from "../../ops/core/minmax.ts";
import { noGrad } from "../../autograd/tape.ts";
import { maskTokens } from "../../nn/mlm.ts";
import { Module } from "../../nn/module.ts";
import { Rng } from "../../random.ts";
import { readAll, type Tensor, tensor, tidy } from "../../tensor.ts";
import type { LossOutput } from "../../train/loop.ts";
import type { PretrainModel } from "../../train/pretrain.ts";
import { TextEncoder, type TextEncoderConfig } from "./text_encoder.ts";
import { SPECIAL, type TokenRows } from "./tokenizer.ts";

/** MLM pretraining of a {@link TextEncoder} over token rows. */
export class TextMlm extends Module implements PretrainModel {
  /** Display name. */
  readonly name = "TextMLM";
  /** The encoder (`encoder.*`). */
  readonly encoder: TextEncoder;
  /** Probe: masked-token accuracy on the held-out news. */
  readonly probeMetric = { name: "mlm_acc", mode: "max" as const };
  /** Training rows (80% of the news). */
  readonly trainRows: Int32Array;
  /** Held-out rows (20%). */
  readonly heldOut: Int32Array;
  #rng: Rng;

  /** An encoder of `cfg` over `rows` (the 8:2 news split drawn from `cfg.seed`). */
  constructor(readonly rows: TokenRows, cfg: TextEncoderConfig) {
    super();
    this.encoder = this.child("encoder", new TextEncoder({ maxLength: rows.L, ...cfg }));
    const n = rows.lengths.length;
    const rng = new Rng((cfg.seed ?? 0) + 1);
    const perm = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i)) as Int32Array;
    const cut = n < 5 ? n : Math.round(0.8 * n);
    this.trainRows = perm.slice(0, cut).sort();
    this.heldOut = perm.slice(cut).sort();
    this.#rng = new Rng((cfg.seed ?? 0) + 2);
  }

  /** Training rows. */
  get numSamples(): number {
    return this.trainRows.length;
  }

  /** ids [B, L] of the given rows. */
  #ids(rows: Int32Array): { ids: Int32Array; lengths: Int32Array } {
    const L = this.rows.L;
    const ids = new Int32Array(rows.length * L);
    const lengths = new Int32Array(rows.length);
    rows.forEach((r, k) => {
      ids.set(this.rows.ids.subarray(r * L, (r + 1) * L), k * L);
      lengths[k] = this.rows.lengths[r];
    });
    return { ids, lengths };
  }

  #mlm(
    rows: Int32Array,
    rng: Rng,
  ): { loss: Tensor<"f32">; logits: Tensor<"f32">; targets: Int32Array } {
    const { ids, lengths } = this.#ids(rows);
    const L = this.rows.L;
    const m = maskTokens(ids, L, rng, {
      vocabSize: this.encoder.cfg.vocabSize,
      maskId: SPECIAL.mask,
      firstWord: SPECIAL.mask + 1,
    });
    const B = rows.length;
    const h = this.encoder.forward(
      tensor(m.inputs, [B, L], "i32"),
      tensor(lengths, [B], "i32"),
    );
    const out = this.encoder.mlm.loss(h, this.encoder.embeddings.word, m);
    return { ...out, targets: m.targets };
  }

  /** MLM loss of batch `rows` (indices into {@link trainRows}). */
  loss(rows: Int32Array): LossOutput {
    const { loss } = this.#mlm(rows.map((k) => this.trainRows[k]), this.#rng);
    return { loss, parts: { mlm: loss } };
  }

  /** Masked-token accuracy and loss on the held-out news (valid) or all news (test). */
  async probe(split: "valid" | "test"): Promise<Record<string, number>> {
    const rows = split === "valid" && this.heldOut.length > 0
      ? this.heldOut
      : Int32Array.from({ length: this.rows.lengths.length }, (_, i) => i);
    const rng = new Rng(12345); // the same masking every time
    let hits = 0, total = 0, lossSum = 0, batches = 0;
    const was = this.training;
    this.eval();
    try {
      for (let lo = 0; lo < rows.length; lo += 256) {
        const [pred, loss, targets] = await noGrad(async () => {
          let t: Int32Array = new Int32Array();
          const ts = tidy(() => {
            const r = this.#mlm(rows.subarray(lo, lo + 256), rng);
            t = r.targets;
            return [argmax(r.logits, 1) as Tensor, r.loss];
          });
          const [p, l] = await readAll(ts);
          for (const x of ts) x.dispose();
          return [p, l, t] as const;
        });
        targets.forEach((y, i) => (hits += pred[i] === y ? 1 : 0));
        total += targets.length;
        lossSum += loss[0];
        batches++;
      }
    } finally {
      this.train(was);
    }
    return { mlm_acc: hits / Math.max(1, total), mlm_loss: lossSum / Math.max(1, batches) };
  }

  /** Encode once: one `[CLS]` vector per row of `rows` (default: every news), [N, E] on the host. */
  async export(rows: TokenRows = this.rows): Promise<Float32Array> {
    const t = this.encoder.encodeAll(rows);
    const [v] = await readAll([t]);
    t.dispose();
    return v as Float32Array;
  }
}
