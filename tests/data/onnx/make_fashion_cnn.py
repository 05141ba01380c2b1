#!/usr/bin/python3
"""Trains a small residual CNN on Fashion-MNIST in PyTorch, exports it to ONNX with the call
docs/onnx.md documents, and writes what a user would have (run by hand; CI only reads it):

  tests/data/onnx/fashion_cnn.onnx         the model (input 1 x 28 x 28, batch symbolic)
  tests/data/images/fashion_<k>_<class>.png the first test image of each class k, as PNG
  tests/data/onnx/fashion_cnn.logits.npy   PyTorch's logits on those PNGs, decoded by PIL and
                                           normalised like the training data
  tests/data/onnx/fashion_cnn.grad.npy     the input gradient of each image's top logit
  tests/data/images/fashion_labels.txt     the class names, one per line (explain_onnx --labels)

Needs Debian's python3-torch, python3-onnx, python3-numpy, python3-pil and the package
dataset-fashion-mnist:

    /usr/bin/python3 tests/data/onnx/make_fashion_cnn.py        # about 2 minutes on 2 cores
"""
import gzip
import os

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "..", "images")
DATA = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt-top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle-boot"]
MEAN, STD = 0.2860, 0.3530  # of the training images; the --mean / --std the example takes


def idx(name):
    with gzip.open(os.path.join(DATA, name)) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + x)


def model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),  # 14 x 14
        Block(16), nn.AvgPool2d(2),                                                       # 7 x 7
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))


def main():
    torch.manual_seed(0)
    x_train = torch.tensor(idx("train-images-idx3-ubyte.gz"), dtype=torch.float32)[:, None] / 255
    y_train = torch.tensor(idx("train-labels-idx1-ubyte.gz"), dtype=torch.long)
    test_images = idx("t10k-images-idx3-ubyte.gz")
    test_labels = idx("t10k-labels-idx1-ubyte.gz")
    x_test = (torch.tensor(test_images, dtype=torch.float32)[:, None] / 255 - MEAN) / STD
    x_train = (x_train - MEAN) / STD

    net = model()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for epoch in range(2):
        net.train()
        perm = torch.randperm(len(x_train))
        for i in range(0, len(perm), 128):
            b = perm[i:i + 128]
            opt.zero_grad()
            nn.functional.cross_entropy(net(x_train[b]), y_train[b]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            acc = (net(x_test).argmax(1).numpy() == test_labels).mean()
        print(f"epoch {epoch + 1}: test accuracy {100 * acc:.2f} %")

    # The export docs/onnx.md documents.
    net.eval()
    torch.onnx.export(net, x_test[:1], os.path.join(HERE, "fashion_cnn.onnx"), input_names=["input"],
                      output_names=["output"], opset_version=17,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})

    # The first test image of each class as a PNG, and PyTorch on the PNGs as decoded.
    os.makedirs(IMAGES, exist_ok=True)
    with open(os.path.join(IMAGES, "fashion_labels.txt"), "w") as f:
        f.write("T-shirt/top\nTrouser\nPullover\nDress\nCoat\nSandal\nShirt\nSneaker\nBag\nAnkle boot\n")
    batch = []
    for k, name in enumerate(CLASSES):
        j = int(np.flatnonzero(test_labels == k)[0])
        path = os.path.join(IMAGES, f"fashion_{k}_{name}.png")
        Image.fromarray(test_images[j]).save(path)
        pixels = np.asarray(Image.open(path).convert("L"), dtype=np.float64) / 255
        batch.append((pixels - MEAN) / STD)
    x = torch.tensor(np.stack(batch)[:, None], dtype=torch.float32, requires_grad=True)
    logits = net(x)
    logits.gather(1, logits.argmax(1)[:, None]).sum().backward()
    np.save(os.path.join(HERE, "fashion_cnn.logits.npy"), logits.detach().numpy())
    np.save(os.path.join(HERE, "fashion_cnn.grad.npy"), x.grad.numpy())
    print("predicted:", [CLASSES[int(k)] for k in logits.argmax(1)])


if __name__ == "__main__":
    main()
