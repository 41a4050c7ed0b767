// Dead-code detection and reset, one invocation per code w = b·m + k: idle[w] counts the
// consecutive steps in which the code got no assignment (cnt[w] = 0). Once it reaches
// u.limit the code is overwritten with a random current input row (b's sub-vector of it),
// chosen by a hash of (seed, w); with EMA the EMA weight is set to row·N so that W / N keeps
// the new code. reset[0] counts the codes reset in this call (integer atomic).
fn reset_hash(v: u32) -> u32 {
  var h = v * 747796405u + 2891336453u;
  h = ((h >> ((h >> 28u) + 4u)) ^ h) * 277803737u;
  return (h >> 22u) ^ h;
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let w = linear_id(wid, nwg, lid);
  if (w >= u.m * u.nb) { return; }
  if (cnt[w] > 0.0) {
    idle[w] = 0u;
    return;
  }
  let steps = idle[w] + 1u;
  if (steps < u.limit) {
    idle[w] = steps;
    return;
  }
  idle[w] = 0u;
  atomicAdd(&reset[0], 1u);
  let row = reset_hash(u.seed ^ reset_hash(w)) % u.n;
  let src = row * u.x_row + (w / u.m) * u.x_bat;
  for (var j = 0u; j < u.d; j++) {
    let v = x[src + j];
    codes[w * u.d + j] = v;
    if (EMA) { weight[w * u.d + j] = v * count[w]; }
  }
}
