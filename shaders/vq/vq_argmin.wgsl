// Unfused reference path: given the materialised dot products dots[i, k] = x_i·e_k (an N×M
// matmul), idx[i] = argmin_k of ‖e_k‖² − 2·dots (L2) or −dots/‖e_k‖ (COSINE); ties → lowest k.
// One workgroup per row, tree reduction ordered by (score, index).
var<workgroup> sv: array<f32, WG_X>;
var<workgroup> si: array<i32, WG_X>;

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= u.n) { return; }
  var v = 0.0;
  var k = -1;
  for (var c = lid; c < u.m; c += WG_X) {
    let dt = dots[row * u.m + c];
    var s: f32;
    if (COSINE) { s = -dt * enorm[c]; } else { s = enorm[c] - 2.0 * dt; }
    if (k < 0 || s < v) {
      v = s;
      k = i32(c);
    }
  }
  sv[lid] = v;
  si[lid] = k;
  workgroupBarrier();
  for (var s = WG_X / 2u; s > 0u; s = s / 2u) {
    if (lid < s && better(sv[lid + s], si[lid + s], sv[lid], si[lid])) {
      sv[lid] = sv[lid + s];
      si[lid] = si[lid + s];
    }
    workgroupBarrier();
  }
  if (lid == 0u) { idx[row] = si[0]; }
}
