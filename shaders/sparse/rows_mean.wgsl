// The layer mean at a subset of rows: out[s] = (((h0[r] + h1[r]) + …) + last[s]) · scale with
// r = ids[s], for P full layers before the last (P ≤ 4; unused bindings are never read) and the
// last layer computed at the subset only. The sums run in the order of the composed ops. One
// invocation per row (its id is loaded once).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let s = linear_id(wid, nwg, lid);
  if (s >= u.k) { return; }
  let o = u32(ids[s]) * u.d;
  for (var c = 0u; c < u.d; c++) {
    var acc = h0[o + c];
    if (P > 1u) { acc += h1[o + c]; }
    if (P > 2u) { acc += h2[o + c]; }
    if (P > 3u) { acc += h3[o + c]; }
    out[s * u.d + c] = u.scale * (acc + last[s * u.d + c]) + 0.0; // as `scale`: αx + β
  }
}
