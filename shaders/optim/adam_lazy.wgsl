// Lazy (row-sparse) Adam / AdamW over a [rows, cols] table, one invocation per row. A row whose
// gradient is all zero was not touched by the step (an embedding row no id of the batch
// gathered): its weights and both moments stay as they are (no moment decay, no weight decay),
// as torch.optim.SparseAdam leaves rows absent from a sparse gradient. A touched row gets the
// update of adam.wgsl (same bias corrections: the optimizer's step count for this parameter).
// The host keeps cols ≤ 65,535 (software adapters stop longer loops silently).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wid, nwg, lid);
  if (r >= u.rows) { return; }
  let base = r * u.cols;
  var touched = false;
  for (var c = 0u; c < u.cols; c++) {
    if (grad[base + c] != 0.0) {
      touched = true;
      break;
    }
  }
  if (!touched) { return; }
  for (var c = 0u; c < u.cols; c++) {
    let i = base + c;
    var w = p[i];
    var g = grad[i];
    if (DECOUPLED) { w = w * (1.0 - u.lr * u.wd); } else { g = g + u.wd * w; }
    let m1 = u.beta1 * m[i] + (1.0 - u.beta1) * g;
    let v1 = u.beta2 * v[i] + (1.0 - u.beta2) * g * g;
    m[i] = m1;
    v[i] = v1;
    p[i] = w - (u.lr / u.bc1) * m1 / (sqrt(v1) / sqrt(u.bc2) + u.eps);
  }
}
