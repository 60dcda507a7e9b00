"""Recipe specs: what is accepted, and whether every error names the file and the field."""
from __future__ import annotations

import dataclasses

import pytest

from dlgrade.errors import SpecError
from dlgrade.train import Recipe

WHERE = "exercises/mnist.yaml: recipe"
BASE = {"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "epochs": 1}


def test_round_trip():
    """Does a full recipe survive to_dict -> from_dict unchanged?"""
    r = Recipe.from_dict(BASE | {"weight_decay": 0.01, "max_seconds": 30, "clip_grad_norm": 1.0,
                                 "optimizer": "adamw", "loss": "mse"}, where=WHERE)
    assert Recipe.from_dict(r.to_dict(), where=WHERE) == r


def test_defaults_and_widening():
    """Are optional fields defaulted, and integers given for float fields stored as floats?"""
    r = Recipe.from_dict({"optimizer": "sgd", "lr": 1, "batch_size": 4, "epochs": 3, "momentum": 0}, where=WHERE)
    assert type(r.lr) is float and r.lr == 1.0
    assert (r.loss, r.full_batch, r.max_seconds, r.clip_grad_norm) == ("cross_entropy", False, None, None)


def test_frozen():
    """Is a recipe immutable once built?"""
    with pytest.raises(dataclasses.FrozenInstanceError):
        Recipe.from_dict(BASE).lr = 1.0


@pytest.mark.parametrize("field, value, says", [
    ("optimizer", "rmsprop", "one of adam, adamw, sgd"),
    ("loss", "hinge", "one of cross_entropy, mse"),
    ("lr", 0, "greater than 0"),
    ("lr", -1e-3, "greater than 0"),
    ("lr", float("nan"), "finite"),
    ("lr", "1e-3", "write 1.0e-3"),
    ("lr", True, "number"),
    ("batch_size", 0, "at least 1"),
    ("batch_size", 2.5, "integer"),
    ("epochs", True, "integer"),
    ("epochs", None, "integer"),
    ("momentum", 0.9, "only applies to sgd"),
    ("weight_decay", -0.1, "at least 0"),
    ("full_batch", "yes", "true or false"),
    ("max_seconds", 0, "greater than 0"),
    ("clip_grad_norm", -1.0, "greater than 0"),
    ("clip_grad_norm", [1.0], "number or null"),
    ("max_flops", 0, "greater than 0"),
    ("max_flops", "1e8", "write 1.0e-3"),
])
def test_bad_value_names_file_and_field(field, value, says):
    """Does each invalid value raise a SpecError that names the file, the field and the rule?"""
    with pytest.raises(SpecError) as info:
        Recipe.from_dict(BASE | {field: value}, where=WHERE)
    message = str(info.value)
    assert message.startswith(f"{WHERE}.{field}: ")
    assert says in message


def test_sgd_momentum_range():
    """Is SGD momentum accepted below 1 and refused at 1?"""
    assert Recipe.from_dict(BASE | {"optimizer": "sgd", "momentum": 0.9}).momentum == 0.9
    with pytest.raises(SpecError, match=r"recipe\.momentum: must be in \[0, 1\)"):
        Recipe.from_dict(BASE | {"optimizer": "sgd", "momentum": 1.0})


def test_unknown_key_is_an_error():
    """Is a misspelt field reported with its name and the known fields, rather than ignored?"""
    with pytest.raises(SpecError, match=r"exercises/mnist.yaml: recipe: unknown recipe field\(s\) learning_rate; "
                                         r"known fields are optimizer, lr"):
        Recipe.from_dict(BASE | {"learning_rate": 0.1}, where=WHERE)


def test_missing_required_key():
    """Is a missing required field reported by name?"""
    with pytest.raises(SpecError, match=f"{WHERE}: missing required recipe field\\(s\\) lr, epochs"):
        Recipe.from_dict({"optimizer": "adam", "batch_size": 8}, where=WHERE)


def test_not_a_mapping():
    """Is a recipe given as a list refused with a message naming where it was?"""
    with pytest.raises(SpecError, match=f"{WHERE}: expected a mapping"):
        Recipe.from_dict(["adam", 1e-3], where=WHERE)


def test_direct_construction_is_validated():
    """Does building a Recipe in code apply the same checks?"""
    with pytest.raises(SpecError, match=r"^Recipe\.batch_size: must be at least 1"):
        Recipe(optimizer="adam", lr=1e-3, batch_size=0, epochs=1)
