// The layer mean at a subset of rows: out[s] = (((h0[r] + h1[r]) + …) + last[s]) · scale with
// r = ids[s], for P full layers before the last (P ≤ 4; unused bindings are never read) and the
// last layer computed at the subset only. The sums run in the order of the composed ops.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  let o = u32(ids[i / u.d]) * u.d + i % u.d;
  var acc = h0[o];
  if (P > 1u) { acc += h1[o]; }
  if (P > 2u) { acc += h2[o]; }
  if (P > 3u) { acc += h3[o]; }
  out[i] = u.scale * (acc + last[i]) + 0.0; // as `scale` computes it (αx + β)
}
