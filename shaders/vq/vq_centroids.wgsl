// Lloyd (k-means) update: codes[k, j] = sums[k, j] / cnt[k] for every code with members; an
// empty cluster keeps its centre.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = linear_id(wid, nwg, lid);
  if (e >= u.n) { return; }
  let c = cnt[e / u.d];
  if (c > 0.0) { codes[e] = sums[e] / c; }
}
