/**
 * The conv family's op kinds and gradient rules, merged for the autograd table: im2col and
 * col2im (conv2d and its transpose go through them and matmul), pooling, batch norm.
 * @module
 */

import type { RuleTable } from "../../autograd/tape.ts";
import { type Im2colAttrs, im2colRules } from "./im2col.ts";
import { type PoolAttrs, poolRules } from "./pool.ts";
import { type BatchNormAttrs, batchNormRules } from "./batchnorm.ts";

/** Attributes of the conv family's differentiable op kinds. */
export interface ConvAttrs extends Im2colAttrs, PoolAttrs, BatchNormAttrs {}

/** Gradient rules of the conv family. */
export const convRules: RuleTable<keyof ConvAttrs> = {
  ...im2colRules,
  ...poolRules,
  ...batchNormRules,
};
