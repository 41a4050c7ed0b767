// One radix-2 Stockham stage of batched complex FFTs of size M (interleaved re, im): reads
// elements j and j + M/2, writes the butterfly to (j − k)·2 + k and that + p, where p is the
// stage's half-span and k = j mod p. The output of the last stage is in natural order.
// Twiddles come from a host table tw[t] = exp(−2πi·t/(2M)) (f64-accurate): the stage's
// exp(∓2πi·k/(2p)) is tw[k·M/p], conjugated for the inverse. Outputs are multiplied by
// u.scale (1/M on the last inverse stage, else 1).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = linear_id(wid, nwg, lid);
  let half = u.m / 2u;
  if (idx >= u.batch * half) { return; }
  let base = (idx / half) * u.m;
  let j = idx % half;
  let k = j & (u.p - 1u);
  let a = vec2<f32>(src[2u * (base + j)], src[2u * (base + j) + 1u]);
  let c = vec2<f32>(src[2u * (base + j + half)], src[2u * (base + j + half) + 1u]);
  let ti = k * (u.m / u.p);
  var w = vec2<f32>(tw[2u * ti], tw[2u * ti + 1u]);
  if (u.inverse != 0u) { w.y = -w.y; }
  let wc = vec2<f32>(w.x * c.x - w.y * c.y, w.x * c.y + w.y * c.x);
  let o = base + (j - k) * 2u + k;
  dst[2u * o] = (a.x + wc.x) * u.scale;
  dst[2u * o + 1u] = (a.y + wc.y) * u.scale;
  dst[2u * (o + u.p)] = (a.x - wc.x) * u.scale;
  dst[2u * (o + u.p) + 1u] = (a.y - wc.y) * u.scale;
}
