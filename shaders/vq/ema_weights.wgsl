// EMA codebook update, one invocation per element of the [codes, d] weight:
//   W ← γ·W + (1 − γ)·S;   e = W / N   (N: the smoothed counts from ema_counts.wgsl).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = linear_id(wid, nwg, lid);
  if (e >= u.n) { return; }
  let w = u.decay * weight[e] + (1.0 - u.decay) * sums[e];
  weight[e] = w;
  codes[e] = w / count[e / u.d];
}
