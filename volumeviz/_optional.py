"""Import optional or heavy dependencies inside functions; errors say what to install."""

from __future__ import annotations

import importlib
from types import ModuleType


def import_optional(name: str, *, feature: str, extra: str | None = None) -> ModuleType:
    """Import module ``name`` or raise an ImportError naming ``feature`` and the pip extra.

    Examples
    --------
    >>> np = import_optional("numpy", feature="arrays")
    >>> np.__name__
    'numpy'
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        hint = f"pip install 'volumeviz[{extra}]'" if extra else f"pip install {name}"
        raise ImportError(f"{feature} needs the '{name}' package: {hint} ({exc})") from exc
