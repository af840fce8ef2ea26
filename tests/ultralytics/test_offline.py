"""keep_offline: Ultralytics' fonts and AMP check stay local, auto-install is off unless the user set it."""
import os

import torch

from rhis_plugin.ultralytics.offline import keep_offline, local_check_amp, local_font


def test_fonts_are_found_locally(tmp_path, monkeypatch):
    import ultralytics.utils as utils
    monkeypatch.setattr(utils, 'USER_CONFIG_DIR', tmp_path)          # no Arial.ttf downloaded there
    font = local_font('Arial.Unicode.ttf')
    assert font.is_file() and font.suffix == '.ttf'


def test_amp_check_needs_no_download(monkeypatch):
    assert local_check_amp(torch.nn.Linear(2, 2)) is False            # CPU: AMP off, as Ultralytics does
    meta = torch.nn.Linear(2, 2, device='meta')                          # an accelerator without yolo26n.pt on disk
    monkeypatch.chdir(os.path.dirname(__file__))
    assert local_check_amp(meta) is True


def test_keep_offline_turns_auto_install_off_unless_set(monkeypatch):
    import ultralytics.utils.checks as checks
    monkeypatch.delenv('YOLO_AUTOINSTALL', raising=False)
    keep_offline()
    assert os.environ['YOLO_AUTOINSTALL'] == 'false' and checks.AUTOINSTALL is False
    monkeypatch.setenv('YOLO_AUTOINSTALL', 'true')
    keep_offline()
    assert checks.AUTOINSTALL is True
    monkeypatch.setenv('YOLO_AUTOINSTALL', 'false')
    keep_offline()
