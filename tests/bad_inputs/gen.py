#!/usr/bin/env python3
"""Regenerates the bad-input corpus and its good reference files (python3 stdlib only).

    python3 tests/bad_inputs/gen.py          # rewrites tests/bad_inputs/{good,idx,csv,ini,ckpt}/

The output is deterministic and committed: the files are the corpus, this script only documents
how each was made. cases.tsv (hand-written) says how each file is run and what it must produce.

Model and checkpoint files are encoded here from dpmlp.proto by hand (a few lines of protobuf
wire format) so each field can be broken on purpose; good/model.pb and good/ckpt.pb are the
unbroken baseline the e2e test checks first (they must load and resume with exit 0).
"""
import gzip
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(rel, data):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)


# --- IDX ----------------------------------------------------------------------------------------
def idx_images(n, h, w, pixels=None, magic=0x803):
    if pixels is None:
        pixels = bytes((i * 37) % 256 for i in range(n * h * w))
    return struct.pack(">IIII", magic, n, h, w) + pixels


def idx_labels(labels, magic=0x801, count=None):
    return struct.pack(">II", magic, len(labels) if count is None else count) + bytes(labels)


TRAIN_N, TEST_N, H, W = 20, 10, 4, 4
GOOD_TRAIN_IMAGES = idx_images(TRAIN_N, H, W)
GOOD_TRAIN_LABELS = idx_labels([i % 10 for i in range(TRAIN_N)])


def gen_idx():
    write("good/idx/train-images-idx3-ubyte", GOOD_TRAIN_IMAGES)
    write("good/idx/train-labels-idx1-ubyte", GOOD_TRAIN_LABELS)
    write("good/idx/t10k-images-idx3-ubyte", idx_images(TEST_N, H, W))
    write("good/idx/t10k-labels-idx1-ubyte", idx_labels([(3 * i) % 10 for i in range(TEST_N)]))

    write("idx/images_wrong_magic", idx_images(TRAIN_N, H, W, magic=0x801))
    write("idx/labels_wrong_magic", idx_labels([0] * TRAIN_N, magic=0x803))
    write("idx/images_empty", b"")
    write("idx/images_truncated_header", GOOD_TRAIN_IMAGES[:10])
    write("idx/labels_truncated_header", GOOD_TRAIN_LABELS[:6])
    write("idx/images_truncated_pixels", GOOD_TRAIN_IMAGES[:16 + 300])
    write("idx/labels_truncated", GOOD_TRAIN_LABELS[:8 + 15])
    write("idx/labels_count_mismatch", idx_labels([i % 10 for i in range(TRAIN_N - 1)]))
    # Declares 4 billion 28x28 images in a 116-byte file: must fail as truncated, not allocate.
    write("idx/images_huge_count", idx_images(0xFFFFFFFF, 28, 28, pixels=bytes(100)))
    write("idx/images_absurd_size", idx_images(1, 0x80000000, 0x80000000, pixels=bytes(16)))
    # n*h*w does not fit 64 bits: must be caught before the multiplication.
    write("idx/images_overflow_header", idx_images(0xFFFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, pixels=b""))
    write("idx/images_zero_rows", idx_images(TRAIN_N, 0, W, pixels=b""))
    write("idx/labels_out_of_range", idx_labels([i % 10 for i in range(TRAIN_N - 1)] + [10]))
    write("idx/images_trailing_bytes", GOOD_TRAIN_IMAGES + b"\0\0\0")
    # gzip magic and header, then deflate garbage.
    write("idx/images_gzip_garbage.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(range(7, 250, 3)))
    write("idx/images_gzip_cut.gz", gzip.compress(GOOD_TRAIN_IMAGES, mtime=0)[:40])
    write("idx/test_images_5x5", idx_images(TEST_N, 5, 5))
    # A header declaring 0 test images (training would report "0.00% (0 samples)").
    write("idx/test_images_zero", idx_images(0, H, W))


# --- CSV ----------------------------------------------------------------------------------------
def gen_csv():
    write("good/train.csv", "".join(f"{i % 3},{i * 0.5:g},{(i * 7) % 5 - 2}\n" for i in range(12)))
    write("good/test.csv", "".join(f"{(i + 1) % 3},{i * 0.25:g},{i % 4}\n" for i in range(6)))
    write("good/inputs1.csv", "0.5\n-1\n2.25\n")
    write("csv/ragged.csv", "0,1,2\n1,2,3\n2,3\n")
    write("csv/non_numeric.csv", "0,1,2\n1,abc,3\n")
    write("csv/nan.csv", "0,1,2\n1,nan,3\n")
    write("csv/inf.csv", "0,1,2\n1,2,-inf\n")
    write("csv/out_of_float_range.csv", "0,1,2\n1,1e999,3\n")
    write("csv/empty.csv", "")
    write("csv/blank_lines_only.csv", "\n\n \n")
    write("csv/blank_line_inside.csv", "0,1,2\n\n1,2,3\n")
    write("csv/negative_label.csv", "0,1,2\n-1,2,3\n")
    write("csv/non_integer_label.csv", "0,1,2\n1.5,2,3\n")
    write("csv/huge_label.csv", "0,1,2\n1000000000,2,3\n")
    write("csv/label_only.csv", "0\n1\n")
    write("csv/empty_field.csv", "0,1,2\n1,,3\n")
    write("csv/nul_bytes.csv", b"0,1,2\n1,\x00\x00,3\n")
    # The BOM is skipped: line 1 parses, the error on line 2 keeps its number.
    write("csv/utf8_bom.csv", b"\xef\xbb\xbf0,1,2\n1,x,3\n")
    write("csv/semicolons.csv", "0;1;2\n1;2;3\n")
    write("csv/header_row.csv", "label,x,y\n0,1,2\n")
    write("csv/test_label_out_of_range.csv", "0,1,2\n7,2,3\n")
    write("csv/test_wrong_width.csv", "0,1,2,3\n1,2,3,4\n")
    write("csv/target_nan.csv", "0.5,1,2\nnan,2,3\n")
    write("csv/predict_three_columns.csv", "1,2,3\n4,5,6\n")
    write("csv/predict_ragged.csv", "1\n2\n3,4\n")
    # One stray label would make 16777216 classes (24 GB of batch buffers).
    write("csv/label_16777215.csv", "0,1,2\n1,2,3\n16777215,1,1\n")
    write("csv/classes_one_feature.csv", "0,0.5\n1,0.25\n1,-1\n")


# --- INI ----------------------------------------------------------------------------------------
def gen_ini():
    write("good/train.ini", "# a valid config\nepochs = 1\nbatch-size = 8\nlr = 0.01\n")
    write("ini/unknown_key.ini", "epochs = 1\nlearning-rate = 0.1\n")
    write("ini/wrong_type.ini", "batch-size = 8\nepochs = many\n")
    write("ini/negative_lr.ini", "epochs = 1\nlr = -1\n")
    write("ini/duplicate_key.ini", "epochs = 1\nbatch-size = 8\nepochs = 2\n")
    write("ini/bad_enum.ini", "activation = swish\n")
    write("ini/section.ini", "[train]\nepochs = 1\n")
    write("ini/no_equals.ini", "epochs 1\n")
    write("ini/bool_not_bool.ini", "nesterov = maybe\n")
    write("ini/int_overflow.ini", "batch-size = 99999999999999999999\n")
    write("ini/momentum_one.ini", "momentum = 1\n")
    write("ini/binary.ini", b"\x00\xff\xfe=\x01\n")
    # Found by the config fuzzer: Boost's message template substitutes %value% into itself forever.
    write("ini/percent_value.ini", "epochs = %value%x\n")
    # The BOM is skipped, so the error is the unknown key of line 2; NaN is out of range.
    write("ini/utf8_bom.ini", b"\xef\xbb\xbfepochs = 1\nbogus = 2\n")
    write("ini/nan_clip_norm.ini", "clip-norm = nan\n")


# --- protobuf wire format (only what dpmlp.proto needs) -------------------------------------------
def varint(v):
    v &= (1 << 64) - 1  # negative int32/int64 are ten-byte two's complement
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(num, v):
    return varint(num << 3) + varint(v)


def f_bytes(num, b):
    if isinstance(b, str):
        b = b.encode()
    return varint((num << 3) | 2) + varint(len(b)) + b


def f_float(num, x):
    return varint((num << 3) | 5) + struct.pack("<f", x)


def f_double(num, x):
    return varint((num << 3) | 1) + struct.pack("<d", x)


def packed_varints(num, vals):
    return f_bytes(num, b"".join(varint(v) for v in vals))


def packed_floats(num, vals):
    return f_bytes(num, struct.pack("<%df" % len(vals), *vals))


def tensor(name, shape, data):
    return f_bytes(1, name) + packed_varints(2, shape) + packed_floats(3, data)


# The baseline: the model `dpmlp train --dataset sin --layers 4 --activation tanh` builds (1-4-1,
# identity output, mse, xavier), with no input normalisation (shift 0, scale 1).
def spec(hidden=(4,), activation="tanh", output="identity", loss="mse", init="xavier", input_dim=1,
         output_dim=1, shift=None, scale=None, maxout_pieces=2):
    s = f_varint(1, input_dim) + packed_varints(2, hidden) + f_varint(3, output_dim)
    s += f_bytes(4, activation) + f_float(5, 1.0) + f_float(6, 0.01) + f_varint(7, maxout_pieces)
    s += f_bytes(8, output) + f_bytes(9, loss) + f_bytes(10, init)
    s += packed_floats(11, [0.0] * input_dim if shift is None else shift)
    s += packed_floats(12, [1.0] * input_dim if scale is None else scale)
    return s


def params(w1=None):
    w1 = [0.5, -0.25, 0.125, 1.0] if w1 is None else w1
    return [tensor("layer1.weight", [4, 1], w1), tensor("layer1.bias", [4], [0.0, 0.1, -0.1, 0.2]),
            tensor("layer2.weight", [1, 4], [0.3, -0.3, 0.6, -0.6]), tensor("layer2.bias", [1], [0.05])]


def model(spec_bytes=None, tensors=None, version=1):
    m = f_varint(1, version) + f_bytes(2, spec() if spec_bytes is None else spec_bytes)
    m += b"".join(f_bytes(3, t) for t in (params() if tensors is None else tensors))
    return m + f_bytes(4, "0.1.0") + f_varint(5, 1700000000)


def options():
    o = f_varint(1, 32) + f_double(2, 0.01) + f_double(3, 0.9) + f_varint(5, 1)
    o += f_bytes(13, "constant") + f_double(14, 0.1) + f_varint(15, 1) + f_bytes(22, "sin")
    return o + f_bytes(27, "none")


def position(step=0, epoch=0, pos_in_epoch=0, samples=0):
    return (f_varint(1, step) + f_varint(2, epoch) + f_varint(3, pos_in_epoch) + f_varint(4, samples) +
            f_double(5, 0.01) + f_varint(7, (1 << 64) - 1))  # best_epoch -1


def checkpoint(model_bytes=None, velocity=None, pos=None, version=1):
    c = f_varint(1, version) + f_bytes(2, model() if model_bytes is None else model_bytes)
    c += f_bytes(3, options()) + f_bytes(4, position() if pos is None else pos)
    zero = [tensor("layer1.weight", [4, 1], [0.0] * 4), tensor("layer1.bias", [4], [0.0] * 4),
            tensor("layer2.weight", [1, 4], [0.0] * 4), tensor("layer2.bias", [1], [0.0])]
    c += b"".join(f_bytes(5, t) for t in (zero if velocity is None else velocity))
    return c + f_varint(6, 1) + f_varint(7, 1) + f_bytes(8, "classical") + f_varint(9, 1700000000)


def frame(magic, payload, version=1, length=None, crc=None):
    length = len(payload) if length is None else length
    crc = zlib.crc32(payload) if crc is None else crc
    return magic + struct.pack("<IQI", version, length, crc) + payload


CKP, MDL = b"DPMLPCKP", b"DPMLPMDL"


def gen_ckpt():
    good_ck = frame(CKP, checkpoint())
    write("good/model.pb", frame(MDL, model()))
    write("good/ckpt.pb", good_ck)

    write("ckpt/empty.pb", b"")
    write("ckpt/wrong_magic.pb", b"PK\x03\x04" + good_ck[4:])
    write("ckpt/text.pb", "checkpoint: yes\n")
    write("ckpt/truncated_header.pb", good_ck[:12])
    write("ckpt/truncated_payload.pb", good_ck[:len(good_ck) - 30])
    flipped = bytearray(good_ck)
    flipped[20] ^= 0x01  # the stored CRC
    write("ckpt/flipped_crc.pb", bytes(flipped))
    flipped = bytearray(good_ck)
    flipped[len(flipped) // 2] ^= 0x40  # a payload bit
    write("ckpt/flipped_payload_bit.pb", bytes(flipped))
    write("ckpt/absurd_length.pb", frame(CKP, checkpoint(), length=1 << 62))
    write("ckpt/future_version.pb", frame(CKP, checkpoint(), version=7))
    write("ckpt/trailing_bytes.pb", good_ck + b"\n")
    write("ckpt/garbage_protobuf.pb", frame(CKP, b"\xff" * 64))
    write("ckpt/message_version_2.pb", frame(CKP, checkpoint(version=2)))
    write("ckpt/nan_param.pb", frame(CKP, checkpoint(model(tensors=params([0.5, float("nan"), 0.1, 1.0])))))
    inf_velocity = [tensor("layer1.weight", [4, 1], [0.0, 0.0, float("inf"), 0.0]),
                    tensor("layer1.bias", [4], [0.0] * 4), tensor("layer2.weight", [1, 4], [0.0] * 4),
                    tensor("layer2.bias", [1], [0.0])]
    write("ckpt/inf_velocity.pb", frame(CKP, checkpoint(velocity=inf_velocity)))
    write("ckpt/missing_velocity.pb", frame(CKP, checkpoint(velocity=[])))
    write("ckpt/negative_position.pb", frame(CKP, checkpoint(pos=position(step=-5))))
    write("ckpt/position_beyond_data.pb",
          frame(CKP, checkpoint(pos=position(step=3, pos_in_epoch=10 ** 9, samples=10 ** 9))))
    write("ckpt/model_not_checkpoint.pb", frame(MDL, model()))

    write("ckpt/model_is_checkpoint.pb", good_ck)
    write("ckpt/model_missing_tensor.pb", frame(MDL, model(tensors=params()[:3])))
    write("ckpt/model_wrong_shape.pb",
          frame(MDL, model(tensors=[tensor("layer1.weight", [1, 4], [0.5] * 4)] + params()[1:])))
    write("ckpt/model_short_tensor.pb",
          frame(MDL, model(tensors=[tensor("layer1.weight", [4, 1], [0.5] * 3)] + params()[1:])))
    write("ckpt/model_bad_activation.pb", frame(MDL, model(spec(activation="swish"))))
    write("ckpt/model_bad_pair.pb", frame(MDL, model(spec(output="softmax", loss="mse"))))
    write("ckpt/model_norm_size.pb", frame(MDL, model(spec(shift=[0.0, 0.0], scale=[1.0, 1.0]))))
    write("ckpt/model_nan_norm.pb", frame(MDL, model(spec(scale=[float("nan")]))))
    write("ckpt/model_negative_width.pb", frame(MDL, model(spec(hidden=(-4,)))))
    write("ckpt/model_zero_input.pb", frame(MDL, model(spec(input_dim=0, shift=[], scale=[]))))
    write("ckpt/model_absurd_width.pb", frame(MDL, model(spec(hidden=(1 << 30,)))))
    # 1-(2^31-1)x3-1: each layer's weight count is ~2^62, so their sum leaves int64.
    write("ckpt/model_overflow_widths.pb", frame(MDL, model(spec(hidden=(2 ** 31 - 1,) * 3))))
    # maxout rows = width x pieces = 2^28 x 16 = 2^32: leaves int.
    write("ckpt/model_maxout_overflow.pb",
          frame(MDL, model(spec(hidden=(1 << 28,), activation="maxout", init="he", maxout_pieces=16))))
    write("ckpt/model_message_version_9.pb", frame(MDL, model(version=9)))
    # A 250-byte file whose spec declares 1-2^29-1 (1.6e9 parameters, under the 2^31 cap): its four
    # small tensors must be rejected before 6.4 GB of parameters are allocated.
    write("ckpt/model_memory_bomb.pb", frame(MDL, model(spec(hidden=(1 << 29,)))))
    # A tensor name that is not UTF-8: protobuf refuses the string field.
    bad_name = [tensor(b"layer1.\xff\xfe", [4, 1], [0.5] * 4)] + params()[1:]
    write("ckpt/invalid_utf8_name.pb", frame(CKP, checkpoint(model(tensors=bad_name))))


if __name__ == "__main__":
    gen_idx()
    gen_csv()
    gen_ini()
    gen_ckpt()
    sys.exit(0)
