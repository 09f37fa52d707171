"""The runnable examples in docstrings (numpydoc ``Examples``) run and give what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import volumeviz

PACKAGES = ("model", "transfer", "ops", "io", "render", "report")


def _modules() -> list[str]:
    names = ["volumeviz", "volumeviz._optional"]
    for pkg in PACKAGES:
        mod = importlib.import_module(f"volumeviz.{pkg}")
        names.append(mod.__name__)
        names += [
            info.name for info in pkgutil.walk_packages(mod.__path__, prefix=f"{mod.__name__}.")
        ]
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_some_examples_exist() -> None:
    finder = doctest.DocTestFinder()
    total = sum(
        len(t.examples) for n in _modules() for t in finder.find(importlib.import_module(n))
    )
    assert total >= 40, total
    assert volumeviz.__version__
