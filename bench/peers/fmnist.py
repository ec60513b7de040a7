"""Fashion-MNIST training set as float32 arrays, read with gzip from the IDX files dpmlp reads.

Pixels are standardised with the training set's mean and standard deviation (one pair for all
pixels); the timing does not depend on the exact transform.
"""
import gzip
import os
import struct

import numpy as np

DATA_DIR = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_train(data_dir=DATA_DIR):
    """Returns (x float32 [n, 784], y int64 [n])."""
    images = _read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))
    labels = _read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))
    x = images.reshape(images.shape[0], -1).astype(np.float32)
    mean, std = x.mean(), x.std()
    x -= mean  # in place: no second copy of the set in the peak memory
    x /= std
    return x, labels.astype(np.int64)
