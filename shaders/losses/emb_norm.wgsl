// Σ_j ‖t[ids_j]‖ (MMRec's EmbLoss numerator) over L lists of B row ids into t [rows, d], without
// gathering the rows. PARTIAL: invocation (j, b) sums the squares of list j's flat elements
// [b·chunk, (b + 1)·chunk) (element i is t[ids[j·B + i / d], i % d]) into partial[j·nb + b].
// !PARTIAL: one invocation sums each list's nb partials in order, keeps the norms for the
// backward and writes their sum. Blocks keep every loop far below the software loop limit.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let q = linear_id(wid, nwg, lid);
  let n = u.b * u.d;
  if (PARTIAL) {
    if (q >= u.lists * u.nb) { return; }
    let j = q / u.nb;
    let b = q % u.nb;
    var acc = 0.0;
    for (var i = b * u.chunk; i < min(n, (b + 1u) * u.chunk); i++) {
      let v = t[u32(ids[j * u.b + i / u.d]) * u.d + i % u.d];
      acc += v * v;
    }
    partial[q] = acc;
  } else {
    if (q > 0u) { return; }
    var total = 0.0;
    for (var j = 0u; j < u.lists; j++) {
      var s = 0.0;
      for (var b = 0u; b < u.nb; b++) { s += partial[j * u.nb + b]; }
      norms[j] = sqrt(s);
      total += norms[j];
    }
    out[0] = total;
  }
}
