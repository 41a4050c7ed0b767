// SparCode index build, pass 1: cnt[row0 + r] = #{ j : table[r, j] > thr } for every row r of
// a chunk of the (code × item) score table. One workgroup per row; threads stride over the
// items (len / WG_X iterations, kept under lavapipe's loop cap by the host), then a tree sum.
// NaN scores are never kept.
var<workgroup> part: array<u32, WG_X>;

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  let live = r < u.rows;
  var c = 0u;
  if (live) {
    for (var j = lid; j < u.len; j += WG_X) {
      if (table[r * u.len + j] > u.thr) { c += 1u; }
    }
  }
  part[lid] = c;
  workgroupBarrier();
  for (var s = WG_X / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
  if (live && (lid == 0u)) { cnt[u.row0 + r] = i32(part[0]); }
}
