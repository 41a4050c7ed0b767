// Reference batched matmul: c[b] = op(a[b]) · op(b[b]), op = transpose when TRANS_A / TRANS_B.
// One invocation per output; a batch stride of 0 broadcasts a single matrix over the batch.
@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let col = g.x;
  let row = g.y;
  let bt = g.z;
  if (row >= u.m || col >= u.n || bt >= u.batch) { return; }
  let ao = bt * u.stride_a;
  let bo = bt * u.stride_b;
  var acc = 0.0;
  for (var k = 0u; k < u.k; k++) {
    var ai = ao + row * u.k + k;
    if (TRANS_A) { ai = ao + k * u.m + row; }
    var bi = bo + k * u.n + col;
    if (TRANS_B) { bi = bo + col * u.k + k; }
    acc += a[ai] * b[bi];
  }
  c[bt * u.m * u.n + row * u.n + col] = acc;
}
