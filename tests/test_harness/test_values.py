"""Values crossing between grader and student: what survives, what is refused."""
import json
import math

import numpy as np
import pytest
import torch

from dlgrade.harness.errors import BadOutput
from dlgrade.harness.values import DirStore, MemoryStore, Ref, decode, encode


def roundtrip(value, register=None):
    store = MemoryStore()
    data = json.loads(json.dumps(encode(value, store, register)))
    return decode(data, store)


def test_plain_data_survives_unchanged():
    """Do scalars, strings, nested lists, tuples and dicts with int keys come back equal?"""
    value = {"a": [1, 2.5, None, True, "x"], 3: (1, 2), "nested": {"t": (0.5,)}}
    assert roundtrip(value) == value


def test_arrays_and_tensors_keep_their_kind_dtype_and_values():
    """Does a numpy array come back as numpy and a tensor as a tensor, bit for bit?"""
    arr = np.arange(12, dtype=np.int16).reshape(3, 4)
    ten = torch.randn(2, 3)
    back_arr, back_ten = roundtrip([arr, ten])
    assert isinstance(back_arr, np.ndarray) and back_arr.dtype == np.int16
    np.testing.assert_array_equal(back_arr, arr)
    assert isinstance(back_ten, torch.Tensor)
    assert torch.equal(back_ten, ten)


def test_non_finite_floats_are_preserved():
    """Do NaN and infinities survive JSON (which has no literal for them)?"""
    nan, inf, ninf = roundtrip([math.nan, math.inf, -math.inf])
    assert math.isnan(nan) and inf == math.inf and ninf == -math.inf


def test_object_arrays_are_refused():
    """Is an object array (which would need pickle) refused rather than sent?"""
    with pytest.raises(BadOutput, match="dtype object"):
        encode(np.array([object()], dtype=object), MemoryStore())


def test_unknown_objects_need_a_register_and_become_refs():
    """Does a non-data object become a Ref on the student side and an error on the grader side?"""
    class Model:
        pass

    with pytest.raises(BadOutput, match="cannot be sent"):
        encode(Model(), MemoryStore())
    ref = roundtrip(Model(), register=lambda obj: Ref(7, "x.Model", "m"))
    assert ref == Ref(7, "x.Model", "m")


def test_dirstore_reads_only_the_other_sides_files(tmp_path):
    """Can the grader read only arrays the student side named with its own prefix, as plain npy?"""
    student, grader = DirStore(tmp_path, "s"), DirStore(tmp_path, "g")
    name = student.put(np.ones(3))
    np.testing.assert_array_equal(grader.get(name), np.ones(3))
    own = grader.put(np.zeros(2))
    with pytest.raises(BadOutput, match="invalid array reference"):
        grader.get(own)
    with pytest.raises(BadOutput, match="invalid array reference"):
        grader.get("../etc/passwd")


def test_dirstore_refuses_a_pickled_payload(tmp_path):
    """Is an .npy that needs unpickling rejected instead of loaded?"""
    np.save(tmp_path / "s5.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(BadOutput, match="could not be read"):
        DirStore(tmp_path, "g").get("s5.npy")


def test_scalar_arrays_keep_zero_dimensions(tmp_path):
    """Does a 0-d array or scalar tensor come back 0-d, in memory and through files?"""
    store = DirStore(tmp_path, "s")
    data = json.loads(json.dumps(encode([np.array(2.5), torch.tensor(3.0)], store)))
    arr, ten = decode(data, DirStore(tmp_path, "g"))
    assert arr.shape == () and float(arr) == 2.5 and ten.shape == ()
    assert roundtrip(np.array(7)).shape == ()


def test_small_arrays_travel_inline_and_large_ones_as_files(tmp_path):
    """Does an array of a few rows cross inside the message (no file), a large one as a file, both bit for
    bit with their dtype, byte order and shape (empty and 0-d included)?"""
    from dlgrade.harness.values import INLINE_BYTES

    grader, student = DirStore(tmp_path, "g"), DirStore(tmp_path, "s")
    small = [np.arange(6, dtype=">i4").reshape(2, 3), np.zeros((0, 784), np.float32), np.array(2.5),
             np.array([True, False])]
    large = np.random.default_rng(0).random(INLINE_BYTES // 8 + 1)
    data = json.loads(json.dumps(encode(small + [large], grader)))
    assert [("__inline__" in d, "__ndarray__" in d) for d in data] == [(True, False)] * 4 + [(False, True)]
    assert len(list(tmp_path.iterdir())) == 1
    back = decode(data, student)
    for got, want in zip(back, small + [large]):
        assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want)


@pytest.mark.parametrize("spec", [
    ["|O", [1], "AAAAAAAAAAA="],                  # objects
    ["<f4", [3], "AAAAAA=="],                     # 4 bytes for 3 floats
    ["<f4", [-1], ""],                            # a negative size
    ["[('a', '<i4')]", [1], "AAAAAA=="],          # a structured dtype
    ["<f4", [1], "not base64!"],
    ["<f4", "1", "AAAAAA=="],
])
def test_malformed_inline_arrays_are_refused(spec):
    """Is an inline array with a non-numeric dtype, a shape that does not match its bytes, or bad base64
    refused with BadOutput?"""
    with pytest.raises(BadOutput):
        decode({"__inline__": spec, "torch": False}, MemoryStore())
