// InfoNCE forward for adapters that run compute on a CPU (llvmpipe/lavapipe, SwiftShader),
// register-blocked like matmul_regblock.wgsl: there a storage load is a per-lane loop and a
// workgroup barrier a coroutine switch, so each invocation keeps a 16 × 16 tile of logits
// (16 query rows × 16 keys, as 4 × 4 mat4x4) in registers and walks d in vec4 chunks, every
// loaded vec4 feeding 16 multiply-adds. Same contract as infonce_fwd.wgsl (one direction, keys
// k[u.kb .. u.ke), running (m, s, z_pos) in `state` between blocks, lse and row loss written by
// the last block); needs d % 4 == 0 (u.d4 = d / 4). Everything is written out with constant
// indices: llvmpipe does not unroll loops over register arrays and would keep them in memory.
// Shared helpers: tile4.wgsl, infonce_rb_common.wgsl.

// Running log-sum-exp of a row-quad.
struct Lse { m: vec4<f32>, s: vec4<f32>, zp: vec4<f32> }
// Per-key data of a block: scales and ids of its 16 keys.
struct Keys { sk: array<vec4<f32>, 4>, id: array<vec4<i32>, 4> }

// −inf where a key is past the block or a left-out duplicate of the row's positive.
fn mask4(z: vec4<f32>, row: u32, j: u32, id: i32, kid: vec4<i32>) -> vec4<f32> {
  let kj = vec4(j, j + 1u, j + 2u, j + 3u);
  var out = kj < vec4(u.ke);
  if (MASK && u.diag != 0u) { out = out & ((kid != vec4(id)) | (kj == vec4(row))); }
  return select(vec4(NEG_INF), z, out);
}
fn diag4(z: vec4<f32>, row: u32, j: u32) -> f32 {
  if (u.diag == 0u) { return 0.0; }
  let kj = vec4(j, j + 1u, j + 2u, j + 3u);
  return dot(select(vec4(0.0), z, (kj == vec4(row)) & (kj < vec4(u.ke))), vec4(1.0));
}
fn ex4(z: vec4<f32>, mn: f32) -> f32 {
  return dot(select(exp(z - vec4(mn)), vec4(0.0), z <= vec4(NEG_INF)), vec4(1.0));
}

// One row's update: m, s, z_pos from its 16 dot products.
fn row_update(st3: vec3<f32>, row: u32, sx: f32, id: i32, j0: u32, kk: Keys, inv_tau: f32,
              t0: vec4<f32>, t1: vec4<f32>, t2: vec4<f32>, t3: vec4<f32>) -> vec3<f32> {
  let y0 = logit4(t0, sx, kk.sk[0], inv_tau);
  let y1 = logit4(t1, sx, kk.sk[1], inv_tau);
  let y2 = logit4(t2, sx, kk.sk[2], inv_tau);
  let y3 = logit4(t3, sx, kk.sk[3], inv_tau);
  let zp = st3.z + diag4(y0, row, j0) + diag4(y1, row, j0 + 4u) + diag4(y2, row, j0 + 8u) +
    diag4(y3, row, j0 + 12u);
  let z0 = mask4(y0, row, j0, id, kk.id[0]);
  let z1 = mask4(y1, row, j0 + 4u, id, kk.id[1]);
  let z2 = mask4(y2, row, j0 + 8u, id, kk.id[2]);
  let z3 = mask4(y3, row, j0 + 12u, id, kk.id[3]);
  let mn = max(st3.x, max(max(hmax(z0), hmax(z1)), max(hmax(z2), hmax(z3))));
  let e = ex4(z0, mn) + ex4(z1, mn) + ex4(z2, mn) + ex4(z3, mn);
  return vec3(mn, st3.y * exp(st3.x - mn) + e, zp);
}

fn quad_update(l: Lse, q: Quad4, r: u32, j0: u32, kk: Keys, inv_tau: f32) -> Lse {
  let sx = row_scale4(r);
  let id = row_id4(r);
  let a = row_update(vec3(l.m.x, l.s.x, l.zp.x), r, sx.x, id.x, j0, kk, inv_tau, q.t[0][0],
                     q.t[1][0], q.t[2][0], q.t[3][0]);
  let b = row_update(vec3(l.m.y, l.s.y, l.zp.y), r + 1u, sx.y, id.y, j0, kk, inv_tau, q.t[0][1],
                     q.t[1][1], q.t[2][1], q.t[3][1]);
  let c = row_update(vec3(l.m.z, l.s.z, l.zp.z), r + 2u, sx.z, id.z, j0, kk, inv_tau, q.t[0][2],
                     q.t[1][2], q.t[2][2], q.t[3][2]);
  let d = row_update(vec3(l.m.w, l.s.w, l.zp.w), r + 3u, sx.w, id.w, j0, kk, inv_tau, q.t[0][3],
                     q.t[1][3], q.t[2][3], q.t[3][3]);
  return Lse(vec4(a.x, b.x, c.x, d.x), vec4(a.y, b.y, c.y, d.y), vec4(a.z, b.z, c.z, d.z));
}

fn load_lse(r: u32) -> Lse {
  if (u.first != 0u) { return Lse(vec4(NEG_INF), vec4(0.0), vec4(0.0)); }
  let e = u.rows - 1u;
  var l: Lse;
  for (var i = 0u; i < 4u; i++) {
    let b = 3u * min(r + i, e);
    l.m[i] = state[b];
    l.s[i] = state[b + 1u];
    l.zp[i] = state[b + 2u];
  }
  return l;
}
fn store_lse(l: Lse, r: u32) {
  for (var i = 0u; i < 4u; i++) {
    let row = r + i;
    if (row >= u.rows) { return; }
    if (u.last != 0u) {
      let lse = l.m[i] + log(l.s[i]);
      st[u.off_lse + row] = lse;
      loss[u.off_loss + row] = lse - l.zp[i];
    } else {
      state[3u * row] = l.m[i];
      state[3u * row + 1u] = l.s[i];
      state[3u * row + 2u] = l.zp[i];
    }
  }
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r0 = linear_id(wid, nwg, lid) * 16u;
  if (r0 >= u.rows) { return; }
  let inv_tau = 1.0 / st[0];
  var l0 = load_lse(r0);
  var l1 = load_lse(r0 + 4u);
  var l2 = load_lse(r0 + 8u);
  var l3 = load_lse(r0 + 12u);
  for (var j0 = u.kb; j0 < u.ke; j0 += 16u) {
    // Explicit zero stores: a declaration without initializer was not re-zeroed per iteration here.
    var q0 = Quad4();
    var q1 = Quad4();
    var q2 = Quad4();
    var q3 = Quad4();
    for (var c = 0u; c < u.d4; c++) {
      let b0 = transpose(kmat(j0, c));
      let b1 = transpose(kmat(j0 + 4u, c));
      let b2 = transpose(kmat(j0 + 8u, c));
      let b3 = transpose(kmat(j0 + 12u, c));
      q0 = quad4_mma(q0, xmat(r0, c), b0, b1, b2, b3);
      q1 = quad4_mma(q1, xmat(r0 + 4u, c), b0, b1, b2, b3);
      q2 = quad4_mma(q2, xmat(r0 + 8u, c), b0, b1, b2, b3);
      q3 = quad4_mma(q3, xmat(r0 + 12u, c), b0, b1, b2, b3);
    }
    let kk = Keys(array(key_scale4(j0), key_scale4(j0 + 4u), key_scale4(j0 + 8u),
                        key_scale4(j0 + 12u)),
                  array(key_id4(j0), key_id4(j0 + 4u), key_id4(j0 + 8u), key_id4(j0 + 12u)));
    l0 = quad_update(l0, q0, r0, j0, kk, inv_tau);
    l1 = quad_update(l1, q1, r0 + 4u, j0, kk, inv_tau);
    l2 = quad_update(l2, q2, r0 + 8u, j0, kk, inv_tau);
    l3 = quad_update(l3, q3, r0 + 12u, j0, kk, inv_tau);
  }
  store_lse(l0, r0);
  store_lse(l1, r0 + 4u);
  store_lse(l2, r0 + 8u);
  store_lse(l3, r0 + 12u);
}
