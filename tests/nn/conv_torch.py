# Golden values for tests/nn/conv_torch_test.ts: PyTorch's Conv2d, ConvTranspose2d, BatchNorm2d,
# AvgPool2d/MaxPool2d and a 2-layer bidirectional LSTM (batch_first), forward and gradients.
# Run: /usr/bin/python3 tests/nn/conv_torch.py  (writes tests/nn/conv_torch.json)
import json
import torch

torch.manual_seed(0)
out = {}


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def case(name, module, x, fn=None):
    x = x.clone().requires_grad_(True)
    y = fn(module, x) if fn else module(x)
    w = torch.randn(y.shape)
    (y * w).sum().backward()
    out[name] = {
        "params": {k: {"shape": list(v.shape), "data": flat(v)} for k, v in module.state_dict().items()},
        "x": {"shape": list(x.shape), "data": flat(x)},
        "y": {"shape": list(y.shape), "data": flat(y)},
        "w": flat(w),
        "gx": flat(x.grad),
        "grads": {k: flat(p.grad) for k, p in module.named_parameters()},
    }


case("conv", torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2), torch.randn(2, 4, 5, 6))
case("convT", torch.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1),
     torch.randn(2, 3, 3, 4))
bn = torch.nn.BatchNorm2d(3)
with torch.no_grad():
    bn.weight.uniform_(0.5, 1.5)
    bn.bias.uniform_(-0.5, 0.5)
case("bn", bn, torch.randn(4, 3, 2, 3) * 2 + 1)
case("avg", torch.nn.AvgPool2d(3, stride=2, padding=1), torch.randn(2, 3, 5, 4))
case("max", torch.nn.MaxPool2d(3, stride=1, padding=1), torch.randn(1, 2, 4, 5))
case("lstm", torch.nn.LSTM(5, 3, num_layers=2, bidirectional=True, batch_first=True),
     torch.randn(2, 4, 5), lambda m, x: m(x)[0])
json.dump(out, open(__file__.replace(".py", ".json"), "w"))
