"""The exception tree (monitor/errors.py): the classes are related as its docstring draws them."""

from __future__ import annotations

import re

import pytest

from monitor import errors
from monitor.alerts.base import DeliveryError

# Where a class drawn in the tree lives when it is not in errors.py.
ELSEWHERE = {"DeliveryError": DeliveryError}


def drawn_tree() -> list[tuple[str, str]]:
    """(class, parent) for every line of the tree in the module docstring."""
    pairs = []
    parents: list[str] = []  # the chain of classes above the current line, by depth
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^\s*((?:[│ ]   )*)(?:[├└]── )?(\w+Error)\b", line)
        if match is None:
            continue
        depth = len(match.group(1)) // 4 + (1 if "──" in line else 0)
        name = match.group(2)
        del parents[depth:]
        if parents:
            pairs.append((name, parents[-1]))
        parents.append(name)
    return pairs


def error_class(name: str) -> type[Exception]:
    found = ELSEWHERE.get(name) or getattr(errors, name)
    assert isinstance(found, type) and issubclass(found, Exception)
    return found


def test_the_tree_is_drawn():
    pairs = drawn_tree()
    assert ("FetchError", "MonitorError") in pairs
    assert ("HTTPStatusError", "FetchError") in pairs
    assert ("ReadOnlyStoreError", "StoreError") in pairs


@pytest.mark.parametrize(("name", "parent"), drawn_tree())
def test_each_error_derives_from_its_parent_in_the_drawing(name, parent):
    assert error_class(name).__bases__ == (error_class(parent),)


def test_every_error_in_the_module_is_drawn():
    drawn = {name for name, _ in drawn_tree()} | {"MonitorError"}
    defined = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    assert defined <= drawn


@pytest.mark.parametrize(
    ("error", "message", "attributes"),
    [
        (errors.FetchError("https://a.example/", "refused"), "https://a.example/: refused", {}),
        (
            errors.HTTPStatusError("https://a.example/", 503, retry_after=30.0),
            "https://a.example/: HTTP 503",
            {"status": 503, "retry_after": 30.0, "reason": "HTTP 503"},
        ),
        (
            errors.BlockedAddressError("http://10.0.0.1/", "private address"),
            "http://10.0.0.1/: private address",
            {"url": "http://10.0.0.1/"},
        ),
    ],
)
def test_fetch_errors_name_their_url(error, message, attributes):
    assert str(error) == message
    assert isinstance(error, errors.MonitorError)
    for key, value in attributes.items():
        assert getattr(error, key) == value
