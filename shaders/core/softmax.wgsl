// Softmax over rows of length u.n (the last axis), numerically stable: every exponent is taken
// of x − max(row), so nothing overflows. Defines: LOG → log-softmax, y = x − max − log Σ e^(x−max);
// LSE → logsumexp, y[row] = max + log Σ e^(x−max) (one value per row). SMALL (short rows): one
// invocation per row; otherwise one workgroup per row, reducing in workgroup memory.
var<workgroup> sh: array<f32, WG_X>;

fn neg_inf() -> f32 { return bitcast<f32>(0xff800000u); }

// Tree reduction over the workgroup (MAX: max, else sum). Every invocation gets the result.
fn wg_reduce(lid: u32, v: f32, is_max: bool) -> f32 {
  sh[lid] = v;
  workgroupBarrier();
  for (var s = WG_X / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      if (is_max) { sh[lid] = max(sh[lid], sh[lid + s]); } else { sh[lid] = sh[lid] + sh[lid + s]; }
    }
    workgroupBarrier();
  }
  let r = sh[0];
  workgroupBarrier(); // all have read sh[0] before sh is reused
  return r;
}

// Writes the row's outputs from its max m and its sum s = Σ e^(x−m); columns start, start+step, …
fn finish(row: u32, m: f32, s: f32, start: u32, step: u32) {
  if (LSE) {
    if (start == 0u) { y[row] = m + log(s); }
    return;
  }
  let base = row * u.n;
  let ls = log(s);
  for (var c = start; c < u.n; c += step) {
    let d = x[base + c] - m;
    if (LOG) { y[base + c] = d - ls; } else { y[base + c] = exp(d) / s; }
  }
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  if (SMALL) {
    // No early return here: it would make the barriers below non-uniform to the compiler's
    // uniformity analysis (Chrome rejects the shader), even though SMALL is a constant.
    let row = linear_id(wid, nwg, lid);
    if (row < u.rows) {
      let base = row * u.n;
      var m = neg_inf();
      for (var c = 0u; c < u.n; c++) { m = max(m, x[base + c]); }
      var s = 0.0;
      for (var c = 0u; c < u.n; c++) { s += exp(x[base + c] - m); }
      finish(row, m, s, 0u, 1u);
    }
    return;
  }
  let row = wid.x + wid.y * nwg.x;
  if (row >= u.rows) { return; }
  let base = row * u.n;
  var m = neg_inf();
  for (var c = lid; c < u.n; c += WG_X) { m = max(m, x[base + c]); }
  m = wg_reduce(lid, m, true);
  var s = 0.0;
  for (var c = lid; c < u.n; c += WG_X) { s += exp(x[base + c] - m); }
  s = wg_reduce(lid, s, false);
  finish(row, m, s, lid, WG_X);
}
