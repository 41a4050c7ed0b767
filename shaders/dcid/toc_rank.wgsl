// Top-k selection by rank, one invocation per dimension j: rank_j = #{i : s_i before s_j},
// where "before" is larger score (DESC) or smaller score (ASC), ties → lower index. The k
// first ranks are written in order: sel[off + rank_j] = j. O(d²), fine for channel counts.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let j = linear_id(wid, nwg, lid);
  if (j >= u.d) { return; }
  let sj = score[j];
  var rank = 0u;
  for (var i = 0u; i < u.d; i++) {
    let si = score[i];
    var first: bool;
    if (DESC) { first = si > sj; } else { first = si < sj; }
    if (first || (si == sj && i < j)) { rank++; }
  }
  if (rank < u.k) { sel[u.off + rank] = i32(j); }
}
