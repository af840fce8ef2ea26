"""Nothing downloads or installs behind the user's back while ``rhis-yolo`` or RHIS training runs.

Ultralytics reaches for the network on its own in three places a user of ours does not ask for: it pip-installs
missing requirements (``YOLO_AUTOINSTALL``, on by default), it downloads ``Arial.ttf`` when it checks a dataset or
draws labels, and on a GPU it downloads ``yolo26n.pt`` to test AMP. On a machine with the project's extras none of
that is needed, and on an offline machine each one stalls or fails. :func:`keep_offline` turns them local:

- auto-install off unless the user set ``YOLO_AUTOINSTALL`` (a missing package is then named, not installed);
- fonts: Ultralytics' own lookup (its settings folder, the system's fonts), else the DejaVu Sans that ships with
  matplotlib (an Ultralytics dependency), never a download;
- the AMP check runs when ``yolo26n.pt`` is already on disk, else is skipped with AMP left on, as Ultralytics itself
  does offline.

Weights the user names (``model=yolo11n.pt``) still download as Ultralytics users expect.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ['keep_offline', 'local_font', 'local_check_amp']

AMP_WEIGHTS = 'yolo26n.pt'


def local_font(font: str = 'Arial.ttf') -> Path:
    """``font`` where Ultralytics keeps it or the system has it; otherwise matplotlib's DejaVu Sans. No download."""
    from matplotlib import font_manager
    from ultralytics.utils import USER_CONFIG_DIR

    name = Path(font).name
    if (USER_CONFIG_DIR / name).exists():
        return USER_CONFIG_DIR / name
    found = [f.fname for f in font_manager.fontManager.ttflist if name in f.fname and os.path.exists(f.fname)]
    return Path(found[0]) if found else Path(font_manager.findfont('DejaVu Sans'))


def local_check_amp(model: Any) -> bool:
    """Ultralytics' AMP check when its test weights are on disk; otherwise AMP on, with a line saying why."""
    from ultralytics.utils import LOGGER, WEIGHTS_DIR
    from ultralytics.utils.checks import check_amp

    device = next(model.parameters()).device
    if device.type in ('cpu', 'mps'):
        return False
    if any((folder / AMP_WEIGHTS).is_file() for folder in (Path.cwd(), Path(WEIGHTS_DIR))):
        return check_amp(model)
    LOGGER.info(f'AMP: check skipped ({AMP_WEIGHTS} is not on disk and rhis_plugin downloads nothing): amp=True. '
                'If you see NaN losses or zero mAP, train with amp=False.')
    return True


def keep_offline() -> None:
    """Applies the three rules above to Ultralytics in this process (idempotent)."""
    os.environ.setdefault('YOLO_AUTOINSTALL', 'false')
    import ultralytics.data.utils as data_utils
    import ultralytics.engine.trainer as trainer
    import ultralytics.utils as utils
    import ultralytics.utils.checks as checks
    import ultralytics.utils.plotting as plotting

    if 'YOLO_AUTOINSTALL' in os.environ:
        autoinstall = os.environ['YOLO_AUTOINSTALL'].lower() in ('1', 'true', 'yes')
        utils.AUTOINSTALL = checks.AUTOINSTALL = autoinstall
    data_utils.check_font = plotting.check_font = local_font
    trainer.check_amp = local_check_amp
