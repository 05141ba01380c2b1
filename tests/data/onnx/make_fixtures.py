#!/usr/bin/python3
"""Writes the ONNX fixtures of tests/onnx (run by hand; CI only reads what it wrote).

Needs Debian's python3-torch, python3-onnx and python3-numpy (so /usr/bin/python3, not a
pyenv python). For every model NAME it writes, next to this script:

  NAME.onnx         the model, exported by torch.onnx.export (or built with onnx.helper)
  NAME.input.npy    a fixed input batch (N, C, H, W) or (N, F)
  NAME.logits.npy   PyTorch's output on it
  NAME.grad.npy     d (sum_n logits[n, argmax_n]) / d input: the input gradient of every
                    sample's top logit (below a final Softmax, as patternnet explains)

and the malformed or unsupported models of the error tests (bad_*.onnx). With --real DIR it
instead writes torchvision's vgg16, vgg16_bn, resnet18, resnet50, densenet121 and
squeezenet1_1 (random weights, 224 x 224, too large to commit) to DIR, for
tests/onnx/check_real_models.

    /usr/bin/python3 tests/data/onnx/make_fixtures.py            # the committed fixtures
    /usr/bin/python3 tests/data/onnx/make_fixtures.py --real /tmp/onnx-real
"""
import argparse
import copy
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def export(model, x, path, opset, dynamic_batch=True, keep_batch_norm=False):
    """keep_batch_norm: export BatchNormalization nodes instead of letting torch fold them
    into the convolutions before them (it does in eval mode)."""
    model.eval()
    kwargs = {"training": torch.onnx.TrainingMode.PRESERVE} if keep_batch_norm else {}
    if dynamic_batch:
        kwargs["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    # The call docs/onnx.md tells users to make.
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["output"], opset_version=opset,
                      **kwargs)


def reference(model, x, logits_of=None):
    """PyTorch's output and the input gradient of each sample's top logit."""
    model.eval()
    x = x.clone().requires_grad_(True)
    out = model(x)
    logits = logits_of(x) if logits_of is not None else out
    top = logits.argmax(dim=1)
    logits.gather(1, top[:, None]).sum().backward()
    return out.detach().numpy(), x.grad.numpy()


def write(outdir, name, x, out, grad):
    np.save(os.path.join(outdir, f"{name}.input.npy"), x.numpy())
    np.save(os.path.join(outdir, f"{name}.logits.npy"), out)
    np.save(os.path.join(outdir, f"{name}.grad.npy"), grad)


def randomize_batch_norm(model, gen):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=gen) * 0.2)


class Chain(nn.Module):
    """Conv (padding, dilation, stride), ReLU, MaxPool, x.view(x.size(0), -1), Linear, Softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, bias=False)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(6 * 3 * 3, 10)
        self.fc2 = nn.Linear(10, 5)

    def logits(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = F.relu(self.conv2(x))
        x = x.view(x.size(0), -1)  # exported as Shape/Gather/Unsqueeze/Concat/Reshape
        return self.fc2(F.relu(self.fc1(x)))

    def forward(self, x):
        return F.softmax(self.logits(x), dim=1)


class Residual(nn.Module):
    """Stem conv + BN, a residual block with a projection shortcut, Add, AvgPool with
    count_include_pad=False and ceil_mode, MaxPool with padding and ceil_mode, global
    average pooling, torch.flatten, Linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(6)
        self.conv1 = nn.Conv2d(6, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.proj = nn.Conv2d(6, 8, 1, stride=2, bias=False)
        self.bnp = nn.BatchNorm2d(8)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True)
        self.maxp = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = F.relu(self.bn0(self.stem(x)))
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        x = F.relu(y + self.bnp(self.proj(x)))
        x = self.maxp(self.avg(x))
        return self.fc(torch.flatten(self.gap(x), 1))


class Dense(nn.Module):
    """DenseNet-like: two branches concatenated, BatchNorm after the Concat (not foldable),
    Dropout and Identity (skipped), MaxPool with ceil_mode, flatten, a MatMul + Add head."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 3, 3, padding=1)
        self.b = nn.Conv2d(2, 5, 1)
        self.bn = nn.BatchNorm2d(11)
        self.pool = nn.MaxPool2d(2, ceil_mode=True)
        self.drop = nn.Dropout(0.5)
        self.ident = nn.Identity()
        self.w = nn.Parameter(torch.randn(11 * 4 * 4, 3) * 0.1)
        self.bias = nn.Parameter(torch.randn(3) * 0.1)

    def forward(self, x):
        a = F.relu(self.a(x))
        x = torch.cat([a, self.b(x), a], dim=1)  # a feeds the Concat twice (fan-out)
        x = F.relu(self.bn(x))
        x = self.ident(self.drop(self.pool(x)))
        return torch.flatten(x, 1) @ self.w + self.bias


def small_models(outdir):
    gen = torch.Generator().manual_seed(20261203)
    torch.manual_seed(20261203)

    chain = Chain()
    x = torch.randn(3, 2, 12, 12, generator=gen)
    for opset in (11, 17):
        name = f"chain_opset{opset}"
        export(chain, x, os.path.join(outdir, f"{name}.onnx"), opset)
        out, grad = reference(chain, x, chain.logits)
        write(outdir, name, x, out, grad)

    res = Residual()
    randomize_batch_norm(res, gen)
    x = torch.randn(2, 3, 15, 15, generator=gen)
    export(res, x, os.path.join(outdir, "residual.onnx"), 13, keep_batch_norm=True)
    out, grad = reference(res, x)
    write(outdir, "residual", x, out, grad)

    dense = Dense().double()
    randomize_batch_norm(dense, gen)
    x = torch.randn(2, 2, 7, 7, generator=gen, dtype=torch.float64)
    export(dense, x, os.path.join(outdir, "concat_f64.onnx"), 15)
    out, grad = reference(dense, x)
    write(outdir, "concat_f64", x, out, grad)

    handmade(outdir, gen)
    bad_models(outdir)


def handmade(outdir, gen):
    """Attributes torch never exports: Gemm with transB = 0, alpha and beta; Conv with
    auto_pad SAME_UPPER; a Reshape to a Constant (0, -1); Identity and Dropout (skipped)."""
    x = torch.randn(2, 1, 6, 6, generator=gen)
    w = torch.randn(3, 1, 3, 3, generator=gen)
    b = torch.randn(3, generator=gen)
    g = torch.randn(3 * 6 * 6, 4, generator=gen)  # K x M: Gemm with transB = 0
    c = torch.randn(4, generator=gen)
    alpha, beta = 0.5, 2.0
    nodes = [
        helper.make_node("Conv", ["input", "w", "b"], ["c"], name="conv", auto_pad="SAME_UPPER", kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r0"], name="relu"),
        helper.make_node("Identity", ["r0"], ["r"], name="identity"),
        helper.make_node("Constant", [], ["shape"], name="shape",
                         value=numpy_helper.from_array(np.array([0, -1], dtype=np.int64))),
        helper.make_node("Reshape", ["r", "shape"], ["f0"], name="flatten"),
        helper.make_node("Dropout", ["f0"], ["f"], name="dropout"),
        helper.make_node("Gemm", ["f", "g", "bias"], ["output"], name="gemm", alpha=alpha, beta=beta, transB=0),
    ]
    graph = helper.make_graph(
        nodes, "handmade",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 6, 6])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 4])],
        [numpy_helper.from_array(w.numpy(), "w"), numpy_helper.from_array(b.numpy(), "b"),
         numpy_helper.from_array(g.numpy(), "g"), numpy_helper.from_array(c.numpy(), "bias")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(outdir, "handmade.onnx"))

    def f(x):
        y = F.relu(F.conv2d(x, w, b, padding=1))
        return alpha * (y.reshape(y.shape[0], -1) @ g) + beta * c

    xr = x.clone().requires_grad_(True)
    out = f(xr)
    out.gather(1, out.argmax(1)[:, None]).sum().backward()
    write(outdir, "handmade", x, out.detach().numpy(), xr.grad.numpy())


def bad_models(outdir):
    """Models the importer must reject with a ConfigError naming the node."""
    def save(name, nodes, inputs, inits, opset=13, output=("output", ["N", 4])):
        graph = helper.make_graph(nodes, name, inputs,
                                  [helper.make_tensor_value_info(output[0], TensorProto.FLOAT, output[1])], inits)
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]),
                  os.path.join(outdir, f"bad_{name}.onnx"))

    x4 = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 2, 4, 4])
    w = numpy_helper.from_array(np.ones((4, 1, 3, 3), np.float32), "w")
    # a grouped convolution
    save("group", [helper.make_node("Conv", ["input", "w"], ["output"], name="grouped", group=2, pads=[1, 1, 1, 1],
                                    kernel_shape=[3, 3])], [x4], [w], output=("output", ["N", 4, 4, 4]))
    # an unsupported op
    save("op", [helper.make_node("Sigmoid", ["input"], ["output"], name="squash")], [x4], [],
         output=("output", ["N", 2, 4, 4]))
    # a second graph input
    save("two_inputs", [helper.make_node("Add", ["input", "other"], ["output"], name="sum")],
         [x4, helper.make_tensor_value_info("other", TensorProto.FLOAT, ["N", 2, 4, 4])], [],
         output=("output", ["N", 2, 4, 4]))
    # a weight computed at run time (not a constant initialiser)
    save("weight", [helper.make_node("Relu", ["input"], ["wr"], name="w_relu"),
                    helper.make_node("Conv", ["input", "wr"], ["output"], name="conv", pads=[1, 1, 1, 1])],
         [x4], [], output=("output", ["N", 4, 4, 4]))
    # an input whose height is not declared
    save("shape", [helper.make_node("Relu", ["input"], ["output"], name="relu")],
         [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 2, "H", 4])], [],
         output=("output", ["N", 2, "H", 4]))
    # an opset outside 11..17
    save("opset", [helper.make_node("Relu", ["input"], ["output"], name="relu")], [x4], [], opset=9,
         output=("output", ["N", 2, 4, 4]))
    # asymmetric padding
    w3 = numpy_helper.from_array(np.ones((4, 2, 3, 3), np.float32), "w3")
    save("pads", [helper.make_node("Conv", ["input", "w3"], ["output"], name="conv", pads=[0, 0, 1, 1])],
         [x4], [w3], output=("output", ["N", 4, 3, 3]))


def real_models(outdir):
    """Also writes NAME.logits64.npy and NAME.grad64.npy, the same computed by PyTorch in
    float64 (a reference free of float32 rounding: one ReLU whose input is within rounding of
    0 can change a float32 gradient by percents), and NAME.torch.txt: PyTorch's forward time
    in ms on the same input (one thread, fastest of 5 runs), for check_onnx_models."""
    import time
    import torchvision.models as tvm
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(2, 3, 224, 224, generator=gen)
    for name in ("vgg16", "vgg16_bn", "resnet18", "resnet50", "densenet121", "squeezenet1_1"):
        torch.manual_seed(1)
        model = getattr(tvm, name)(weights=None)
        randomize_batch_norm(model, gen)
        export(model, x, os.path.join(outdir, f"{name}.onnx"), 17)
        out, grad = reference(model, x)
        write(outdir, name, x, out, grad)
        out64, grad64 = reference(copy.deepcopy(model).double(), x.double())
        np.save(os.path.join(outdir, f"{name}.logits64.npy"), out64)
        np.save(os.path.join(outdir, f"{name}.grad64.npy"), grad64)
        with torch.no_grad():
            times = []
            for _ in range(5):
                start = time.perf_counter()
                model(x)
                times.append(time.perf_counter() - start)
        with open(os.path.join(outdir, f"{name}.torch.txt"), "w") as f:
            f.write(f"{min(times) * 1e3:.1f}\n")
        print(name, "written", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", metavar="DIR", help="write the torchvision models to DIR instead")
    args = parser.parse_args()
    if args.real:
        real_models(args.real)
    else:
        small_models(HERE)


if __name__ == "__main__":
    sys.exit(main())
