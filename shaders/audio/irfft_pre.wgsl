// Inverse of rfft_post: from X[0..M] of a real signal of size N = 2M, builds
// Z[k] = E[k] + i·O[k], E = (X[k] + conj X[M−k])/2, O = exp(+2πi·k/N)·(X[k] − conj X[M−k])/2,
// whose inverse complex FFT (÷M) is z[n] = x[2n] + i·x[2n+1]. Imaginary parts of X[0] and X[M]
// are ignored (a real signal has none). Writes Z interleaved [batch, M, 2].
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = linear_id(wid, nwg, lid);
  if (idx >= u.batch * u.m) { return; }
  let bins = u.m + 1u;
  let base = (idx / u.m) * bins;
  let k = idx % u.m;
  var a = vec2<f32>(spec[2u * (base + k)], spec[2u * (base + k) + 1u]);
  var c = vec2<f32>(spec[2u * (base + u.m - k)], -spec[2u * (base + u.m - k) + 1u]);
  if (k == 0u) { a.y = 0.0; c.y = 0.0; }
  let e = 0.5 * (a + c);
  let d = 0.5 * (a - c);
  let w = vec2<f32>(tw[2u * k], -tw[2u * k + 1u]);
  let o = vec2<f32>(w.x * d.x - w.y * d.y, w.x * d.y + w.y * d.x);
  z[2u * idx] = e.x - o.y;
  z[2u * idx + 1u] = e.y + o.x;
}
