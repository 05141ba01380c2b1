#!/usr/bin/python3
"""patternnet's reference workloads side by side with PyTorch, measured in one run.

Runs bench_reference (the C++ benchmarks) and then the same networks in PyTorch on the
same machine, one thread each, and prints one table of median times and their ratio.
PyTorch does: the forward pass, the autograd input gradient, a plain PyTorch
PatternAttribution (the forward pass, then the backward pass by hand with the weights
W * A, ReLU masks and max-pool indices of the forward pass), Integrated Gradients (32
steps; the steps of one image batched together as Captum and Zennit do, a batch of
images step by step), SmoothGrad (16 noisy copies in one batch) and the statistics that
S_a+- patterns are fitted from (per Dense / Conv2D layer, in float64: X^T [1+, y 1+, y]
of the layer's inputs or patches X and outputs y, one GEMM). Methods without a PyTorch
counterpart here (LRP: Zennit is not installable) are compared with the autograd
gradient. Run by hand (needs Debian's python3-torch), not by CI:

    /usr/bin/python3 tests/benchmarks/compare.py build/bench/tests/benchmarks/bench_reference
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F


def mlp():
    return [("dense", 784, 512), ("relu",), ("dense", 512, 256), ("relu",), ("dense", 256, 10)]


def cnn():
    return [("conv", 1, 32), ("relu",), ("conv", 32, 32), ("relu",), ("pool",), ("conv", 32, 64), ("relu",),
            ("conv", 64, 64), ("relu",), ("pool",), ("flatten",), ("dense", 3136, 256), ("relu",),
            ("dense", 256, 10)]


def vgg16():
    layers, c = [], 3
    for block in ([64, 64], [128, 128], [256] * 3, [512] * 3, [512] * 3):
        for f in block:
            layers += [("conv", c, f), ("relu",)]
            c = f
        layers.append(("pool",))
    return layers + [("flatten",), ("dense", 25088, 4096), ("relu",), ("dense", 4096, 4096), ("relu",),
                     ("dense", 4096, 1000)]


METHODS = ("forward", "gradient", "pattern_net", "pattern_attribution", "epsilon_plus_flat", "integrated_gradients_32",
           "smoothgrad_16", "fit_two_component")
SHAPES = {"mlp": (784,), "cnn": (1, 28, 28), "vgg16": (3, 224, 224)}
MODELS = {"mlp": mlp, "cnn": cnn, "vgg16": vgg16}


class Net:
    """The layer list with He-normal weights, bias 0.01, random patterns A of W's shape."""

    def __init__(self, layers):
        g = torch.Generator().manual_seed(1)
        self.layers = []
        for layer in layers:
            if layer[0] in ("conv", "dense"):
                shape = (layer[2], layer[1], 3, 3) if layer[0] == "conv" else (layer[2], layer[1])
                fan_in = shape[1] * (9 if layer[0] == "conv" else 1)
                w = torch.randn(shape, generator=g) * (2.0 / fan_in) ** 0.5
                a = torch.randn(shape, generator=g)
                self.layers.append((layer[0], w, torch.full((shape[0],), 0.01), w * a))
            else:
                self.layers.append((layer[0],))

    def forward(self, x, record=None):
        for layer in self.layers:
            kind = layer[0]
            if record is not None:
                record.append(x)
            if kind == "conv":
                x = F.conv2d(x, layer[1], layer[2], padding=1)
            elif kind == "dense":
                x = F.linear(x, layer[1], layer[2])
            elif kind == "relu":
                x = F.relu(x)
            elif kind == "pool":
                x, idx = F.max_pool2d(x, 2, return_indices=True)
                if record is not None:
                    record[-1] = (record[-1], idx)
            else:
                x = x.flatten(1)
        return x

    def pattern_attribution(self, x):
        record = []
        with torch.no_grad():
            out = self.forward(x, record)
            r = torch.zeros_like(out)
            r.scatter_(1, out.argmax(1, keepdim=True), 1.0)
            for layer, inp in zip(reversed(self.layers), reversed(record)):
                kind = layer[0]
                if kind == "conv":
                    r = F.conv_transpose2d(r, layer[3], padding=1)
                elif kind == "dense":
                    r = r @ layer[3]
                elif kind == "relu":
                    r = r * (inp > 0)
                elif kind == "pool":
                    r = F.max_unpool2d(r, inp[1], 2, output_size=inp[0].shape[-2:])
                else:
                    r = r.reshape(inp.shape)
        return r

    def two_component_statistics(self, x):
        """The sums S_a+- is fitted from: per linear layer, X^T [1[y > 0], y 1[y > 0], y] in float64."""
        record = []
        with torch.no_grad():
            self.forward(x, record)
            stats = []
            for layer, inp in zip(self.layers, record):
                if layer[0] == "conv":
                    patches = F.unfold(inp, 3, padding=1)  # N x K x L
                    xs = patches.transpose(1, 2).reshape(-1, patches.shape[1])
                    y = xs @ layer[1].reshape(layer[1].shape[0], -1).T + layer[2]
                elif layer[0] == "dense":
                    xs = inp
                    y = F.linear(xs, layer[1], layer[2])
                else:
                    continue
                positive = (y > 0).to(y.dtype)
                stats.append(xs.double().T @ torch.cat([positive, y * positive, y], 1).double())
        return stats


def median_seconds(fn, budget=2.0, min_runs=3):
    fn()  # warm-up
    times, start = [], time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - start < budget and len(times) < 200):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def torch_times(model, batch):
    net = Net(MODELS[model]())
    x = torch.rand((batch,) + SHAPES[model], generator=torch.Generator().manual_seed(2))

    def forward():
        with torch.no_grad():
            net.forward(x)

    def input_gradient(xs):
        xs = xs.clone().requires_grad_(True)
        out = net.forward(xs)
        out.gather(1, out.argmax(1, keepdim=True)).sum().backward()
        return xs.grad

    def integrated_gradients():
        alphas = (torch.arange(32) + 0.5) / 32
        if batch == 1:
            grads = input_gradient(alphas.reshape(-1, *([1] * len(SHAPES[model]))) * x).mean(0, keepdim=True)
        else:
            grads = sum(input_gradient(a * x) for a in alphas) / 32
        return grads * x

    def smoothgrad():
        noisy = x.repeat(16, *([1] * len(SHAPES[model]))) + 0.1 * torch.randn((16 * batch,) + SHAPES[model])
        return input_gradient(noisy).reshape(16, batch, *SHAPES[model]).mean(0)

    times = {"forward": median_seconds(forward), "gradient": median_seconds(lambda: input_gradient(x)),
             "pattern_attribution": median_seconds(lambda: net.pattern_attribution(x))}
    if model != "vgg16" and batch > 1:
        times["fit_two_component"] = median_seconds(lambda: net.two_component_statistics(x))
    if model == "cnn":
        times["integrated_gradients_32"] = median_seconds(integrated_gradients)
        if batch == 1:
            times["smoothgrad_16"] = median_seconds(smoothgrad)
    return times


def patternnet_times(binary, workloads):
    pattern = "^(" + "|".join(f"({'|'.join(METHODS)})/{m}/{b}/" for m, b in workloads) + ")"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([binary, f"--benchmark_filter={pattern}", "--benchmark_format=json",
                          "--benchmark_repetitions=3", "--benchmark_report_aggregates_only=true",
                          "--benchmark_min_time=1"], check=True, capture_output=True, text=True, env=env).stdout
    times = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        method, model, batch = b["run_name"].split("/")[:3]
        times[(model, int(batch), method)] = (b["real_time"] * 1e-3, b.get("of_gemm"), b.get("peak_MiB"))
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary", help="path of bench_reference")
    parser.add_argument("--workloads", default="mlp/1,mlp/256,cnn/1,cnn/256,vgg16/1,vgg16/8",
                        help="model/batch pairs (default: %(default)s)")
    args = parser.parse_args()
    workloads = [(w.split("/")[0], int(w.split("/")[1])) for w in args.workloads.split(",")]
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread; patternnet: {args.binary}, OMP_NUM_THREADS=1", file=sys.stderr)
    ours = patternnet_times(args.binary, workloads)
    print("| workload | method | patternnet | of GEMM speed | peak MiB | PyTorch | PyTorch / patternnet |")
    print("|---|---|---|---|---|---|---|")
    for model, batch in workloads:
        theirs = torch_times(model, batch)
        for method in METHODS:
            if (model, batch, method) not in ours:
                continue
            t, of_gemm, peak = ours[(model, batch, method)]
            reference = theirs.get(method, theirs["gradient"] if method != "forward" else None)
            label = method if method in theirs else f"{method} (vs torch gradient)"
            gemm = f"{of_gemm:.2f}" if of_gemm is not None else ""
            print(f"| {model} b{batch} | {label} | {t * 1e3:.2f} ms | {gemm} | {peak:.0f} | {reference * 1e3:.2f} ms | "
                  f"{reference / t:.2f} |")


if __name__ == "__main__":
    main()
