#!/usr/bin/python3
"""Prints PyTorch's outputs for the AvgPool2D and BatchNorm2D cases of
tests/layers/test_pooling_norm.cpp, as C++ initialisers (run by hand with Debian's
python3-torch; the test holds the printed values)."""
import torch

torch.set_printoptions(precision=17)
x = ((torch.arange(2 * 5 * 6).reshape(1, 2, 5, 6) * 37) % 190).double() / 100 - 0.6  # exact in C++ too
cases = [
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), ceil_mode=False, count_include_pad=False),
    dict(kernel_size=2, stride=None, padding=0, ceil_mode=False, count_include_pad=True),
]
for c in cases:
    y = torch.nn.functional.avg_pool2d(x, **c)
    print(f"// {c} -> {tuple(y.shape[1:])}")
    print("{" + ", ".join(repr(float(v)) for v in y.flatten()) + "},")

bn = torch.nn.BatchNorm2d(2, eps=1e-3).double().eval()
with torch.no_grad():
    bn.running_mean.copy_(torch.tensor([0.25, -0.5], dtype=torch.float64))
    bn.running_var.copy_(torch.tensor([0.8, 2.5], dtype=torch.float64))
    bn.weight.copy_(torch.tensor([1.5, -0.7], dtype=torch.float64))
    bn.bias.copy_(torch.tensor([0.1, 0.3], dtype=torch.float64))
    y = bn(x)
print("// BatchNorm2d(2, eps=1e-3), eval")
print("{" + ", ".join(repr(float(v)) for v in y.flatten()) + "},")
