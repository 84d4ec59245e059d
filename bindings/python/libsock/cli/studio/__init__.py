"""placeholder"""
from typing import Any


def add_parsers(sub: Any) -> None:
    pass
