// Chunked attention backward (software adapters), step 1: raw scores → probabilities, in
// place. `s` holds q_i·k_t for the query rows c0..c0+rows−1 of every batch·head, as
// [B·H, rows, Lk] (from the matmul kernel); this writes p_it = exp(scale·s + bias − lse_i)
// for the keys row i sees and 0 for masked ones, and with dropout also p̃ = p · mask/(1 − rate)
// to `pd` (the same mask as the forward: hash of (seed, row, key)). One invocation per score;
// no loops (lavapipe's loop cap does not apply).
//
// aux = [lens (i32 bits, B) | lse (f32 bits, B·H·Lq) | Δ (f32 bits, B·H·Lq)] from
// attention_bwd_delta.wgsl. Options are bits of u.flags, as in the fused kernels.

// lowbias32 (Chris Wellons), as hash4 in the fused kernels.

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let e = linear_id(wid, nwg, lid);
  if (e >= u.bh * u.rows * u.lk) { return; }
  let t = e % u.lk;
  let bh = e / (u.rows * u.lk);
  let i = u.c0 + (e / u.lk) % u.rows;
  let b = bh / u.heads;
  let r = bh * u.lq + i; // global query row (index of lse, Δ and the dropout row seed)

  var nmain = u.lk - u.npre;
  if (has_lens()) { nmain = u32(clamp(aux_len(b), 0, i32(nmain))); }
  var klim = u.npre + nmain;
  if (causal()) { klim = min(klim, u.npre + 1u + i); }
  var p = 0.0;
  if (t < klim) {
    var x = s[e] * u.scale;
    if (has_bias() && t >= u.npre) {
      x += bias[b * at8(u.bst, 0u) + (bh % u.heads) * at8(u.bst, 1u) + i * at8(u.bst, 2u) +
        (t - u.npre) * at8(u.bst, 3u)];
    }
    p = exp(x - aux_lse(r));
  }
  s[e] = p;
  if (dropout_on()) {
    let keep = hash(hash(u.seed ^ hash(r)) ^ t) >= u.keep_thresh;
    pd[e] = select(0.0, p * u.drop_scale, keep);
  }
}
