#!/usr/bin/env python3
"""Rebuilds the seed corpora in tests/fuzz/corpus/<harness>/ from the bad-input corpus
(tests/bad_inputs, made by its gen.py): the good files plus a few bad ones per reader, in each
harness's input layout (see the comment at the top of each *_fuzz.cc). python3 stdlib only."""
import glob
import gzip
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, "..", "bad_inputs")


def read(rel):
    with open(os.path.join(BAD, rel), "rb") as f:
        return f.read()


def seeds(harness, items):
    out = os.path.join(HERE, "corpus", harness)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    for name, data in items:
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


def idx_pair(images, labels):
    return struct.pack("<I", len(images)) + images + labels


good_images = read("good/idx/train-images-idx3-ubyte")
good_labels = read("good/idx/train-labels-idx1-ubyte")
seeds("idx", [
    ("good", idx_pair(good_images, good_labels)),
    ("good_test", idx_pair(read("good/idx/t10k-images-idx3-ubyte"), read("good/idx/t10k-labels-idx1-ubyte"))),
    ("good_gzip", idx_pair(gzip.compress(good_images, mtime=0), gzip.compress(good_labels, mtime=0))),
    ("count_mismatch", idx_pair(good_images, read("idx/labels_count_mismatch"))),
    ("label_out_of_range", idx_pair(good_images, read("idx/labels_out_of_range"))),
    ("huge_count", idx_pair(read("idx/images_huge_count"), good_labels)),
    ("gzip_cut", idx_pair(read("idx/images_gzip_cut.gz"), good_labels)),
])

csv = [("good_m%d" % m, bytes([m]) + read("good/train.csv")) for m in range(4)]
csv += [("inputs_m4", b"\x04" + read("csv/predict_three_columns.csv").replace(b",3", b"").replace(b",6", b""))]
csv += [(os.path.basename(p)[:-4], b"\x00" + open(p, "rb").read())
        for p in sorted(glob.glob(os.path.join(BAD, "csv", "*.csv")))[:12]]
seeds("csv", csv)

ini = [("good", read("good/train.ini")),
       ("all_keys", b"dataset = sin\nlayers = 8,4\nactivation = maxout\nmaxout-pieces = 3\n"
                    b"lr = 0.1\nmomentum = 0.5\nnesterov = true\nlr-schedule = cosine\nmin-lr = 0.01\n"
                    b"val-fraction = 0.2\nearly-stop-patience = 2\naugment = yes\nkeep = 2\n"
                    b"# comment\n\nprogress = lines\nnormalize = scale\nresume = none\n")]
ini += [(os.path.basename(p)[:-4], open(p, "rb").read())
        for p in sorted(glob.glob(os.path.join(BAD, "ini", "*.ini")))]
seeds("config", ini)

ck = read("good/ckpt.pb")
md = read("good/model.pb")
seeds("checkpoint", [
    ("file_ckpt", b"\x00" + ck),
    ("file_model", b"\x00" + md),
    ("file_flipped_crc", b"\x00" + read("ckpt/flipped_crc.pb")),
    ("file_truncated", b"\x00" + read("ckpt/truncated_payload.pb")),
    ("payload_ckpt", b"\x01" + ck[24:]),
    ("payload_model", b"\x02" + md[24:]),
    ("payload_nan_param", b"\x01" + read("ckpt/nan_param.pb")[24:]),
    ("payload_maxout", b"\x02" + read("ckpt/model_bad_pair.pb")[24:]),
])
