"""Helpers for the tools' tests: a tool script imported as a module, to call its functions directly."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def load_tool():
    """``load_tool('train_rhis')``: ``tools/train_rhis.py`` as a module."""
    def load(name: str):
        spec = importlib.util.spec_from_file_location(f'{name}_tool', ROOT / 'tools' / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load
