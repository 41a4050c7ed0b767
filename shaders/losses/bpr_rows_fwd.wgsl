// BPR over rows of one table t [rows, d] (users, positives and negatives are row ids): per triple
// b, pos = ⟨t[u], t[p]⟩ and neg = ⟨t[u], t[n]⟩ summed in column order (as rowDot), then
// loss[b] = softplus(neg − pos) as bpr_fwd; diff[b] = neg − pos is kept for the backward.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let b = linear_id(wid, nwg, lid);
  if (b >= u.n) { return; }
  let ru = u32(users[b]) * u.d;
  let rp = u32(pos[b]) * u.d;
  let rn = u32(neg[b]) * u.d;
  var sp = 0.0;
  var sn = 0.0;
  for (var c = 0u; c < u.d; c++) {
    let x = t[ru + c];
    sp += x * t[rp + c];
    sn += x * t[rn + c];
  }
  let x = sn - sp;
  diff[b] = x;
  loss[b] = max(x, 0.0) + log1p_unit(exp(-abs(x))); // softplus: no overflow, exact tail
}
