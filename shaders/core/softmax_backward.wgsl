// Fused backward of shaders/softmax.wgsl over rows of length u.n. MODE 0 (softmax):
// gx = y ⊙ (gy − Σ gy ⊙ y); MODE 1 (log-softmax): gx = gy − e^y · Σ gy; MODE 2 (logsumexp,
// y and gy hold one value per row): gx = gy[row] · e^(x − y[row]). SMALL: one invocation per row.
// The per-row sum the mode needs, over columns start, start+step, …
fn partial(base: u32, start: u32, step: u32) -> f32 {
  var acc = 0.0;
  for (var c = start; c < u.n; c += step) {
    if (MODE == 0) { acc += gy[base + c] * y[base + c]; } else { acc += gy[base + c]; }
  }
  return acc;
}

fn finish(row: u32, d: f32, start: u32, step: u32) {
  let base = row * u.n;
  for (var c = start; c < u.n; c += step) {
    let i = base + c;
    if (MODE == 0) { gx[i] = y[i] * (gy[i] - d); }
    else if (MODE == 1) { gx[i] = gy[i] - exp(y[i]) * d; }
    else { gx[i] = gy[row] * exp(x[i] - y[row]); }
  }
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  if (SMALL) {
    // No early return here (see softmax.wgsl: the barriers below must stay uniform).
    let row = linear_id(wid, nwg, lid);
    if (row < u.rows) {
      var d = 0.0;
      if (MODE != 2) { d = partial(row * u.n, 0u, 1u); }
      finish(row, d, 0u, 1u);
    }
    return;
  }
  let row = wid.x + wid.y * nwg.x;
  if (row >= u.rows) { return; }
  var d = 0.0;
  if (MODE != 2) { d = wg_sum(lid, partial(row * u.n, lid, WG_X)); }
  finish(row, d, lid, WG_X);
}
