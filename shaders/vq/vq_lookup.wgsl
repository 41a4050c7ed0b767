// Code lookup (gather): out[i, b·d + j] = codes[b, idx[i·nb + b], j] for a codebook
// [nb, m, d]. An index outside [0, m) is never read: its output row is NaN, so the bad code
// shows up downstream (and numerics-check mode names this op) instead of reading out of range.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = linear_id(wid, nwg, lid);
  if (e >= u.n * u.nb * u.d) { return; }
  let j = e % u.d;
  let ib = e / u.d; // = i·nb + b
  let b = ib % u.nb;
  let c = idx[ib];
  if (c < 0 || u32(c) >= u.m) {
    out[e] = bitcast<f32>(0x7fc00000u);
    return;
  }
  out[e] = codes[(b * u.m + u32(c)) * u.d + j];
}
