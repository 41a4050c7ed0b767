/**
 * TextRec in the runner (`deno task train --model textrec --set adapt=…`): the survey's
 * adaptation comparison. Pretrain the encoder once with `textmlm` on the same text, then point
 * every run at its weights:
 *
 * ```sh
 * deno task train --model textmlm --data ../shared/data/ml-100k \
 *   --set text=../shared/data/ml-100k/ml-100k.item --set maxLength=16 --out runs/textmlm-items
 * deno task train --model textrec --data ../shared/data/ml-100k \
 *   --set text=../shared/data/ml-100k/ml-100k.item --set maxLength=16 \
 *   --set encoder=runs/textmlm-items/model.safetensors --set adapt=lora
 * ```
 * @module
 */

import { register } from "../../runner/registry.ts";
import { int, num, str } from "../../runner/settings.ts";
import { ADAPT_STRATEGIES, type AdaptStrategy } from "../../nn/adapt_strategy.ts";
import { trainableParameters } from "../../nn/adapt.ts";
import { TextRec, TEXTREC_DEFAULTS as d } from "./model.ts";
import { loadEncoder } from "./encoder.ts";

register({
  name: "textrec",
  title: "TextRec",
  task: "retrieval",
  about: "text-encoder item tower + user embeddings, BPR; the survey's four adaptation strategies",
  data: "interactions + item text (ml-100k titles, or --set text=ml-100k.item)",
  settings: {
    adapt: str(d.adapt, "frozen, finetune, adapter, prefix or lora", ADAPT_STRATEGIES),
    encoder: str("", "a textmlm run's model.safetensors (empty: MLM-pretrain here)"),
    text: str("", "item text file (RecBole .item or MIND news.tsv); default: the data's"),
    maxLength: int(16, "tokens per item ([CLS] included), as the textmlm run's"),
    dim: int(d.dim, "user and item vector width d"),
    dropout: num(d.dropout, "dropout on the pooled text vector"),
    regWeight: num(d.regWeight, "λ of the embedding L2 term"),
    layerDecay: num(
      d.layerDecay,
      "finetune: layer-wise lr decay ξ (layer i of N at lr·ξ^(N−i), embeddings ξ^(N+1))",
    ),
    bottleneck: int(d.bottleneck, "adapter: bottleneck width (Houlsby placement)"),
    prefixTokens: int(d.prefixTokens, "prefix: key/value tokens per layer"),
    rank: int(d.rank, "lora: rank r (q and v projections)"),
    alpha: num(d.alpha, "lora: α (scale α / r)"),
    hidden: int(64, "pretraining here: encoder width"),
    layers: int(3, "pretraining here: Transformer layers"),
    heads: int(4, "pretraining here: attention heads"),
    mlmEpochs: int(10, "pretraining here: MLM epochs"),
  },
  training: { lr: 1e-3, batchSize: 2048, epochs: 5, lrSchedule: "constant" },
  tiny: { maxLength: 8, hidden: 16, layers: 1, heads: 2, mlmEpochs: 1, dim: 8 },
  build: async ({ data, config: c, log }) => {
    const { encoder, tokens } = await loadEncoder(data, {
      text: c.text,
      encoder: c.encoder,
      maxLength: c.maxLength,
      hidden: c.hidden,
      layers: c.layers,
      heads: c.heads,
      mlmEpochs: c.mlmEpochs,
      seed: c.seed,
    }, log);
    const model = new TextRec(data.split.train.numUsers, tokens, encoder, {
      adapt: c.adapt as AdaptStrategy,
      dim: c.dim,
      dropout: c.dropout,
      regWeight: c.regWeight,
      layerDecay: c.layerDecay,
      bottleneck: c.bottleneck,
      prefixTokens: c.prefixTokens,
      rank: c.rank,
      alpha: c.alpha,
      seed: c.seed,
    });
    const { trainable, total } = trainableParameters(model);
    log(
      `textrec adapt=${c.adapt}: ${trainable.toLocaleString()} of ${total.toLocaleString()} parameters train`,
    );
    return model;
  },
});
