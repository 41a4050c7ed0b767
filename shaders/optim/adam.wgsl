// Adam / AdamW, as torch.optim.Adam and AdamW (no amsgrad):
//   Adam:  g ← g + wd·p            AdamW: p ← p·(1 − lr·wd)
//   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p − lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + ε)      (bc1 = 1−β1ᵗ, bc2 = 1−β2ᵗ)
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  var w = p[i];
  var g = grad[i];
  if (DECOUPLED) { w = w * (1.0 - u.lr * u.wd); } else { g = g + u.wd * w; }
  let m1 = u.beta1 * m[i] + (1.0 - u.beta1) * g;
  let v1 = u.beta2 * v[i] + (1.0 - u.beta2) * g * g;
  m[i] = m1;
  v[i] = v1;
  p[i] = w - (u.lr / u.bc1) * m1 / (sqrt(v1) / sqrt(u.bc2) + u.eps);
}
