"""Every public name has a docstring with a short example, and the package is typed."""

from __future__ import annotations

import inspect
import os

import pytest

import libsock

CONSTANTS = {"ERROR_CODES", "OPTION_NAMES", "DEFAULT_MAX_LEN", "__version__", "Address"}


def public_members(obj: object) -> list[tuple[str, object]]:
    return [(n, m) for n, m in vars(obj).items() if not n.startswith("_")]


@pytest.mark.parametrize("name", sorted(set(libsock.__all__) - CONSTANTS))
def test_public_name_has_docstring_with_example(name: str) -> None:
    obj = getattr(libsock, name)
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"libsock.{name} has no docstring"
    assert "Example" in doc, f"libsock.{name}'s docstring has no example"
    if inspect.isclass(obj) and not issubclass(obj, BaseException):
        for member_name, _ in public_members(obj):
            member = getattr(obj, member_name)
            mdoc = inspect.getdoc(member) or ""
            assert mdoc.strip(), f"libsock.{name}.{member_name} has no docstring"
            assert "Example" in mdoc or "``" in mdoc, f"libsock.{name}.{member_name}: no example"


def test_package_is_typed() -> None:
    pkg = os.path.dirname(libsock.__file__)
    assert os.path.exists(os.path.join(pkg, "py.typed"))
    assert os.path.exists(os.path.join(pkg, "_libsock.pyi"))


def test_all_names_exist() -> None:
    for name in libsock.__all__:
        assert hasattr(libsock, name), name
