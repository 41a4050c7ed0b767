// Real FFT of size N = 2M from the complex FFT Z of z[n] = x[2n] + i·x[2n+1]:
// X[k] = E[k] + exp(−2πi·k/N)·O[k], E = (Z[k] + conj Z[M−k])/2, O = (Z[k] − conj Z[M−k])/(2i),
// for k = 0..M (indices mod M). Writes X interleaved [batch, M + 1, 2], or with POWER the
// spectrum |X[k]|^power [batch, M + 1] (power 2: the power spectrum, 1: the magnitude).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = linear_id(wid, nwg, lid);
  let bins = u.m + 1u;
  if (idx >= u.batch * bins) { return; }
  let base = (idx / bins) * u.m;
  let k = idx % bins;
  let k1 = k % u.m;
  let k2 = (u.m - k1) % u.m;
  let a = vec2<f32>(z[2u * (base + k1)], z[2u * (base + k1) + 1u]);
  let c = vec2<f32>(z[2u * (base + k2)], -z[2u * (base + k2) + 1u]);
  let e = 0.5 * (a + c);
  let d = 0.5 * (a - c);
  let o = vec2<f32>(d.y, -d.x); // d / i
  let w = vec2<f32>(tw[2u * k], tw[2u * k + 1u]);
  let re = e.x + w.x * o.x - w.y * o.y;
  let im = e.y + w.x * o.y + w.y * o.x;
  if (POWER) {
    let p2 = re * re + im * im;
    if (u.power == 2.0) { out[idx] = p2; } else { out[idx] = pow(p2, 0.5 * u.power); }
  } else {
    out[2u * idx] = re;
    out[2u * idx + 1u] = im;
  }
}
