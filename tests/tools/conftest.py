"""Helpers for the tool tests: load a script from tools/ as a module, and mmdet's registry scope."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='session')
def load_tool():
    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, ROOT / 'tools' / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load


@pytest.fixture
def mmdet_scope():
    """Builds in mmdet's registry scope, whatever scope an earlier Runner left current."""
    from mmdet.utils import register_all_modules
    from mmengine.registry import DefaultScope

    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield
