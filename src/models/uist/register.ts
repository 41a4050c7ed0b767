/**
 * UIST in the runner (`deno task train --model uist --data ../shared/data/ml-100k`): a CTR
 * model whose build runs Stages A and B (the item and user tokenizers, on the shared loop)
 * from the CTR rows themselves (items: genre tokens; users: positive training items; see
 * ./pipeline.ts), then trains the HMI predictor over the tokens, or with `--set dense=true`
 * the same DCN on the dense embeddings the tokens replace.
 * @module
 */

import { register } from "../../runner/registry.ts";
import { bool, int, str } from "../../runner/settings.ts";
import { DenseCtr, UistCtr } from "./model.ts";
import { contentFromCtr, fitTokenizer, levelRows } from "./pipeline.ts";

register({
  name: "uist",
  title: "UIST",
  task: "ctr",
  about: "UIST (Liu et al., WWW 2024): semantic tokens of users and items, hierarchical mixture",
  data: "CTR rows with user and item id fields (genres as item content when present)",
  settings: {
    dim: int(32, "tokenizer width d"),
    depth: int(3, "residual-quantisation levels"),
    codes: int(96, "codes over all levels (split evenly)"),
    hmiDim: int(16, "token embedding width D of the HMI predictor"),
    tokEpochs: int(10, "epoch limit of each tokenizer"),
    ste: bool(false, "straight-through RQ instead of the official no-STE"),
    dense: bool(false, "the same DCN on dense embeddings instead of tokens"),
    userField: str("user_id", "categorical field of the user id"),
    itemField: str("item_id", "categorical field of the item id"),
  },
  training: { epochs: 5, batchSize: 256 },
  build: async ({ data, config: c, log }) => {
    const content = contentFromCtr(data.train, c.userField, c.itemField);
    const base = { dim: c.dim, depth: c.depth, numCodes: c.codes, epochs: c.tokEpochs };
    const items = await fitTokenizer(content.itemSeqs, content.itemVocab, {
      ...base,
      straightThrough: c.ste,
      seed: c.seed,
    });
    const users = await fitTokenizer(content.userSeqs, content.itemSeqs.length, {
      ...base,
      straightThrough: c.ste,
      inputTable: items.embeddings,
      seed: c.seed + 100,
    });
    log(`UIST tokenizers: item loss ${items.loss.toFixed(4)}, user loss ${users.loss.toFixed(4)}`);
    items.tokenizer.dispose();
    users.tokenizer.dispose();
    const uf = data.train.sparseNames.indexOf(c.userField);
    const itf = data.train.sparseNames.indexOf(c.itemField);
    if (c.dense) {
      return new DenseCtr(
        users.embeddings,
        items.embeddings,
        c.dim,
        {
          embed: c.hmiDim,
          seed: c.seed,
        },
        uf,
        itf,
      );
    }
    const k = c.codes / c.depth;
    return new UistCtr(
      {
        user: levelRows(users.codes, c.depth, k),
        item: levelRows(items.codes, c.depth, k),
      },
      {
        userLevels: c.depth,
        itemLevels: c.depth,
        userCodes: k,
        itemCodes: k,
        dim: c.hmiDim,
        seed: c.seed,
      },
      uf,
      itf,
    );
  },
});
