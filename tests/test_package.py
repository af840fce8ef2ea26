"""Package layout: the core imports without the framework extras; the glue names the extra it needs."""
import importlib
import subprocess
import sys
import textwrap

import pytest

import rhis_plugin

FRAMEWORKS = ('mmdet', 'mmcv', 'mmengine', 'ultralytics', 'onnx', 'onnxruntime', 'cv2')


def test_version():
    assert isinstance(rhis_plugin.__version__, str) and rhis_plugin.__version__.count('.') == 2


def test_core_imports_without_frameworks():
    # A fresh interpreter in which every framework import fails, as on a core-only install.
    code = textwrap.dedent(f"""
        import sys
        for name in {FRAMEWORKS!r}:
            sys.modules[name] = None          # what Python does for a package that is not installed
        import rhis_plugin, rhis_plugin.data, rhis_plugin.models, rhis_plugin.losses, rhis_plugin.postprocess
        import rhis_plugin.training
        from rhis_plugin.data.synthetic import generate_dataset
        loaded = sorted(m for m, mod in sys.modules.items()
                        if mod is not None and m.split('.')[0] in {FRAMEWORKS!r})
        assert not loaded, loaded
        print('ok')
    """)
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and 'ok' in result.stdout, result.stderr


@pytest.mark.parametrize('glue, missing, extra', [
    ('rhis_plugin.mmdet', 'mmdet', 'mmdet'),
    ('rhis_plugin.mmdet', 'mmcv.ops', 'mmdet'),
    ('rhis_plugin.ultralytics', 'ultralytics', 'ultralytics'),
    ('rhis_plugin.deploy', 'onnxruntime', 'onnx'),
])
def test_glue_names_the_missing_extra(monkeypatch, glue, missing, extra):
    monkeypatch.setitem(sys.modules, missing, None)     # makes `import missing` raise ImportError
    monkeypatch.delitem(sys.modules, glue, raising=False)
    with pytest.raises(ImportError, match=rf"pip install 'rhis_plugin\[{extra}\]'"):
        importlib.import_module(glue)


def test_glue_imports_when_installed():
    for glue in ('rhis_plugin.mmdet', 'rhis_plugin.ultralytics', 'rhis_plugin.deploy'):
        importlib.import_module(glue)
