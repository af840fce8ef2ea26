"""Package layout: the core imports without the framework extras; the glue names the extra it needs."""
import importlib
import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path

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
])
def test_glue_names_the_missing_extra(monkeypatch, glue, missing, extra):
    monkeypatch.setitem(sys.modules, missing, None)     # makes `import missing` raise ImportError
    monkeypatch.delitem(sys.modules, glue, raising=False)
    with pytest.raises(ImportError, match=rf"pip install 'rhis_plugin\[{extra}\]'"):
        importlib.import_module(glue)


def test_deploy_imports_without_onnx_and_names_the_extra_when_used(monkeypatch, tmp_path):
    """The frame reader, overlays and predict loop need no onnx; ONNX export and inference name the extra."""
    for name in ('onnx', 'onnxruntime'):
        monkeypatch.setitem(sys.modules, name, None)
    for module in [m for m in sys.modules if m.startswith('rhis_plugin.deploy')]:
        monkeypatch.delitem(sys.modules, module)
    deploy = importlib.import_module('rhis_plugin.deploy')
    assert callable(deploy.iter_frames) and callable(deploy.run_predict) and callable(deploy.draw_overlay)
    (tmp_path / 'x.onnx').write_bytes(b'not a graph')
    with pytest.raises(ImportError, match=r"pip install 'rhis_plugin\[onnx\]'"):
        deploy.OnnxRHIS(tmp_path / 'x.onnx')
    from rhis_plugin.models import build_rhis
    with pytest.raises(ImportError, match=r"pip install 'rhis_plugin\[onnx\]'"):
        deploy.export_onnx(build_rhis(aux_heads=False), tmp_path / 'y.onnx', image_size=(64, 64))


def test_glue_imports_when_installed():
    for glue in ('rhis_plugin.mmdet', 'rhis_plugin.ultralytics', 'rhis_plugin.deploy'):
        importlib.import_module(glue)


ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md')), *sorted((ROOT / 'configs').rglob('README.md'))]


def documented_names() -> set[tuple[str, str]]:
    """(package, name) for every ``from rhis_plugin... import name`` and every `rhis_plugin.pkg.Name` in the docs."""
    found = set()
    for doc in DOCS:
        text = doc.read_text()
        for module, names in re.findall(r'from (rhis_plugin(?:\.\w+)*) import ([\w, ]+)', text):
            found |= {(module, name.strip()) for name in names.split(',') if name.strip()}
        for dotted in re.findall(r'`(rhis_plugin(?:\.\w+)+)', text):
            module, _, name = dotted.rpartition('.')
            found.add((module, name))
    return found


def test_documented_public_names_come_from_package_inits():
    names = documented_names()
    assert len(names) > 10, names
    for module_name, name in sorted(names):
        module = importlib.import_module(module_name)
        assert hasattr(module, '__path__'), f'{module_name}.{name}: document names from the package, not a module'
        if importlib.util.find_spec(f'{module_name}.{name}') is not None:
            continue                                    # a documented subpackage or module
        assert name in getattr(module, '__all__', ()), f'{name} is documented under {module_name} but not exported'


def test_install_surface_licence_torch_pin_and_no_run_time_installs():
    """Apache-2.0 licence file; torch >= 2.6 (weights_only loading); the packages Ultralytics would otherwise
    pip-install at run time are part of the ultralytics extra and installed."""
    setup = (ROOT / 'setup.py').read_text()
    assert 'Apache License' in (ROOT / 'LICENSE').read_text() and "license='Apache-2.0'" in setup
    assert "'torch>=2.6'" in setup
    for package, module in (('lap', 'lap'), ('onnxslim', 'onnxslim'), ('cloudpickle', 'cloudpickle'),
                            ('faster-coco-eval', 'faster_coco_eval')):
        assert f"'{package}>=" in setup
        importlib.import_module(module)
    assert 'AGPL-3.0' in (ROOT / 'README.md').read_text()


def test_installed_requirements_are_consistent():
    """``pip check`` passes: the headless OpenCV that replaces opencv-python (which mmcv, mmengine and ultralytics
    name) is declared by the metadata-only opencv-python that tools/setup_env.sh installs."""
    result = subprocess.run([sys.executable, '-m', 'pip', 'check', '--disable-pip-version-check'],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
