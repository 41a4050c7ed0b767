/**
 * The gradient-rule table: every ops family's rules, merged. Typed over every `OpKind`, so a
 * kind declared in a family's attributes without its rule here fails to compile. It is the
 * compile-time (and test-time) check only: at run time each recorded node carries its rule
 * (see `record`), so `backward` does not pull every family into a bundle.
 * @module
 */

import type { OpKind, RuleTable } from "./tape.ts";
import { elementwiseRules } from "../ops/core/elementwise.ts";
import { fusedRules } from "../ops/core/fused.ts";
import { matmulRules } from "../ops/matmul/matmul.ts";
import { reduceRules } from "../ops/core/reduce.ts";
import { shapeRules } from "../ops/core/shape.ts";
import { infoNceRules } from "../ops/losses/infonce.ts";
import { rankingLossRules } from "../ops/losses/ranking.ts";
import { attentionRules } from "../ops/attention/attention.ts";
import { vqRules } from "../ops/vq/vq.ts";
import { softmaxRules } from "../ops/core/softmax.ts";
import { layerNormRules } from "../ops/core/layernorm.ts";
import { minMaxRules } from "../ops/core/minmax.ts";
import { whereRules } from "../ops/core/where.ts";
import { gatherRules } from "../ops/sparse/gather.ts";
import { spmmRules } from "../ops/sparse/spmm.ts";
import { propagateRules } from "../ops/sparse/propagate.ts";
import { rowwiseRules } from "../ops/losses/rowwise.ts";
import { bprRowsRules } from "../ops/losses/bpr_rows.ts";
import { convRules } from "../ops/conv/rules.ts";
import { lstmRules } from "../ops/rnn/lstm.ts";
import { gruRules } from "../ops/rnn/gru.ts";

/** Every op kind's rule. */
export const rules: RuleTable<OpKind> = {
  ...elementwiseRules,
  ...fusedRules,
  ...matmulRules,
  ...reduceRules,
  ...shapeRules,
  ...infoNceRules,
  ...rankingLossRules,
  ...attentionRules,
  ...vqRules,
  ...softmaxRules,
  ...layerNormRules,
  ...minMaxRules,
  ...whereRules,
  ...gatherRules,
  ...spmmRules,
  ...propagateRules,
  ...rowwiseRules,
  ...bprRowsRules,
  ...convRules,
  ...lstmRules,
  ...gruRules,
};
