// SGD with momentum and L2 weight decay, as torch.optim.SGD (dampening 0):
//   g ← g + wd·p;  v ← μ·v + g (v = g on the first step);  p ← p − lr·(NESTEROV ? g + μ·v : v)
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wid, nwg, lid);
  if (i >= u.n) { return; }
  var g = grad[i] + u.wd * p[i];
  if (u.momentum != 0.0) {
    let v = select(u.momentum * vel[i] + g, g, u.first == 1u);
    vel[i] = v;
    g = select(v, g + u.momentum * v, NESTEROV);
  }
  p[i] = p[i] - u.lr * g;
}
