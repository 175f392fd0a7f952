import pytest

from studio.errors import InputError, ModelUnavailableError
from studio.registry import Registry


class _Thing:
    def __init__(self, size=1):
        self.size = size


class _Unavailable:
    @classmethod
    def availability(cls):
        return False, "needs the moon"


def test_register_create_and_names():
    reg = Registry("widget")
    reg.register("thing", _Thing)
    assert reg.names() == ["thing"]
    assert reg.create("thing", size=3).size == 3
    assert reg.is_available("thing")


def test_lazy_string_targets_and_missing_modules():
    reg = Registry("widget")
    reg.register("dec", "decimal:Decimal")
    reg.register("ghost", "no_such_module_xyz:Thing")
    assert reg.create("dec", value="1.5") == __import__("decimal").Decimal("1.5")
    ok, reason = reg.availability("ghost")
    assert not ok and "no_such_module_xyz" in reason
    with pytest.raises(ModelUnavailableError, match="ghost"):
        reg.create("ghost")


def test_unknown_name_lists_choices():
    reg = Registry("widget")
    reg.register("a", _Thing)
    reg.register("b", _Unavailable)
    with pytest.raises(InputError, match="unknown widget 'c'; choose one of: a, b"):
        reg.get("c")
    assert reg.availability("b") == (False, "needs the moon")
