/**
 * RAR's cross-stage data from a training table (spec rar.md §3.2: simulated on public data):
 * each user's training positives (label 1 rows, in table order, which is time order for the
 * MovieLens CTR split) as the look-alike pool (the last M) and as a sorted CSR that labels
 * recall items for the auxiliary loss on the GPU (`shaders/rar/aux_labels.wgsl`).
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { noGrad } from "../../autograd/tape.ts";
import { groups, launch, output } from "../../ops/common.ts";
import { fmt, keep, type Tensor, tensor } from "../../tensor.ts";
import type { CtrData } from "../../data/ctr.ts";
import * as rarWgsl from "../../../shaders/rar/wgsl.ts";

/** Users' positives, on the host and (CSR) on the GPU. */
export interface CrossStageData {
  /** U: the user field's vocabulary size. */
  users: number;
  /** M: pool slots per user. */
  poolLength: number;
  /** `[U, M]` item ids, the user's last M positives in time order, padded with 0. */
  poolIds: Int32Array;
  /** `[U]` valid slots of each pool row. */
  poolLengths: Int32Array;
  /** CSR row offsets `[U + 1]` of the sorted, distinct positives. */
  ptr: Int32Array;
  /** The positives, row by row, ascending. */
  items: Int32Array;
  /** The CSR on the GPU. */
  gpu: { ptr: Tensor<"i32">; items: Tensor<"i32"> };
  /** Frees the GPU copies. */
  dispose(): void;
}

/** Builds {@link CrossStageData} from the rows of `train` (fields `userField`, `itemField`). */
export function crossStageData(
  train: CtrData,
  userField: string,
  itemField: string,
  poolLength: number,
): CrossStageData {
  const nf = train.sparseNames.length;
  const [ui, ii] = [userField, itemField].map((f) => {
    const j = train.sparseNames.indexOf(f);
    if (j < 0) {
      throw new Error(
        `wgrec rar crossStageData: no categorical field '${f}' (fields: ` +
          `${train.sparseNames.join(", ")})`,
      );
    }
    return j;
  });
  const U = train.cardinalities[ui];
  const pos: number[][] = Array.from({ length: U }, () => []);
  for (let r = 0; r < train.numRows; r++) {
    if (train.labels[r] === 1) pos[train.sparse[r * nf + ui]].push(train.sparse[r * nf + ii]);
  }
  const M = poolLength;
  const poolIds = new Int32Array(U * M);
  const poolLengths = new Int32Array(U);
  const ptr = new Int32Array(U + 1);
  const sorted = pos.map((p) => [...new Set(p)].sort((a, b) => a - b));
  sorted.forEach((s, u) => (ptr[u + 1] = ptr[u] + s.length));
  const items = new Int32Array(ptr[U]);
  pos.forEach((p, u) => {
    const last = p.slice(-M);
    poolIds.set(last, u * M);
    poolLengths[u] = last.length;
    items.set(sorted[u], ptr[u]);
  });
  const gpu = {
    ptr: keep(tensor(ptr, [U + 1], "i32")),
    // A 1-long placeholder when no user has a positive (a binding cannot be empty).
    items: keep(
      tensor(items.length ? items : new Int32Array(1), [Math.max(1, items.length)], "i32"),
    ),
  };
  return {
    users: U,
    poolLength: M,
    poolIds,
    poolLengths,
    ptr,
    items,
    gpu,
    dispose: () => {
      gpu.ptr.dispose();
      gpu.items.dispose();
    },
  };
}

const auxK = /* @__PURE__ */ kernel({
  name: "rar_aux_labels",
  source: rarWgsl.aux_labels,
  bindings: { users: "i32", idx: "i32", ptr: "i32", items: "i32", labels: "f32 rw" },
  uniforms: { n: "u32", k: "u32" },
  workgroupSize: [256],
});

/**
 * Labels `[B·k]` f32 of selected items `idx` `[B, k]` i32: 1 where the item is a training
 * positive of the row's user (`users` `[B]` i32), else 0. Not differentiable.
 */
export function auxLabels(
  cross: CrossStageData,
  users: Tensor<"i32">,
  idx: Tensor<"i32">,
): Tensor<"f32"> {
  if (idx.rank !== 2 || users.rank !== 1 || users.shape[0] !== idx.shape[0]) {
    throw new Error(
      `wgrec rar auxLabels: users ${fmt(users.shape)} and items ${fmt(idx.shape)} must be ` +
        `[B] and [B, k]`,
    );
  }
  const n = idx.size;
  return noGrad(() => {
    const out = output("rar auxLabels", [n], "f32");
    launch("rar auxLabels", auxK, {
      buffers: {
        users: users.buffer,
        idx: idx.buffer,
        ptr: cross.gpu.ptr.buffer,
        items: cross.gpu.items.buffer,
        labels: out.buffer,
      },
      uniforms: { n, k: idx.shape[1] },
      workgroups: groups(n),
    });
    return out;
  });
}
