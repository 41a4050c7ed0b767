// Input gradient of layer norm, one row of length u.n at a time. With x̂ = (x − mean) · rstd and
// g = gy · γ (γ = 1 unless GAMMA): gx = rstd · (g − mean(g) − x̂ · mean(g · x̂)).
// SMALL (short rows): one invocation per row; otherwise one workgroup per row.
var<workgroup> sh: array<vec2<f32>, WG_X>;

fn wg_sum2(lid: u32, v: vec2<f32>) -> vec2<f32> {
  sh[lid] = v;
  workgroupBarrier();
  for (var s = WG_X / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { sh[lid] = sh[lid] + sh[lid + s]; }
    workgroupBarrier();
  }
  let r = sh[0];
  workgroupBarrier();
  return r;
}

fn g_at(i: u32, c: u32) -> f32 {
  if (GAMMA) { return gy[i] * gamma[c]; }
  return gy[i];
}

// (Σ g, Σ g · x̂) over columns start, start+step, …
fn partial(row: u32, start: u32, step: u32) -> vec2<f32> {
  let base = row * u.n;
  let mean = stats[2u * row];
  let rstd = stats[2u * row + 1u];
  var acc = vec2<f32>(0.0, 0.0);
  for (var c = start; c < u.n; c += step) {
    let g = g_at(base + c, c);
    acc += vec2<f32>(g, g * (x[base + c] - mean) * rstd);
  }
  return acc;
}

fn finish(row: u32, sums: vec2<f32>, start: u32, step: u32) {
  let base = row * u.n;
  let mean = stats[2u * row];
  let rstd = stats[2u * row + 1u];
  let a = sums.x / f32(u.n);
  let b = sums.y / f32(u.n);
  for (var c = start; c < u.n; c += step) {
    let xh = (x[base + c] - mean) * rstd;
    gx[base + c] = rstd * (g_at(base + c, c) - a - xh * b);
  }
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // No early return before the barriers (Tint's uniformity analysis), as in layernorm.wgsl.
  if (SMALL) {
    let row = linear_id(wid, nwg, lid);
    if (row < u.rows) { finish(row, partial(row, 0u, 1u), 0u, 1u); }
  } else {
    let row = wid.x + wid.y * nwg.x; // uniform over the workgroup
    if (row < u.rows) { finish(row, wg_sum2(lid, partial(row, lid, WG_X)), lid, WG_X); }
  }
}
