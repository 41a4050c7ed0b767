// EMA cluster sizes with Laplace smoothing, one workgroup per sub-space b (codes b·m .. +m):
//   N_k ← γ·N_k + (1 − γ)·n_k;   N_k ← (N_k + ε) / (ΣN + m·ε) · ΣN
// ΣN is reduced in workgroup memory in a fixed order (deterministic).
var<workgroup> part: array<f32, WG_X>;

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let base = wid.x * u.m;
  var s = 0.0;
  for (var k = lid; k < u.m; k += WG_X) {
    let v = u.decay * count[base + k] + (1.0 - u.decay) * cnt[base + k];
    count[base + k] = v;
    s += v;
  }
  part[lid] = s;
  workgroupBarrier();
  for (var h = WG_X / 2u; h > 0u; h = h / 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  let total = part[0];
  for (var k = lid; k < u.m; k += WG_X) {
    count[base + k] = (count[base + k] + u.eps) / (total + f32(u.m) * u.eps) * total;
  }
}
