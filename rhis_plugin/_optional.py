"""Imports of optional dependencies that fail with a message naming the extra to install."""
from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Imports ``module`` or raises ImportError telling the user which extra of rhis_plugin provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{feature} needs the Python package '{module.split('.')[0]}', which could not be imported "
            f"({error}). Install it with: pip install 'rhis_plugin[{extra}]'") from error
