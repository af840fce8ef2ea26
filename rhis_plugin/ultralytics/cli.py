"""``rhis-yolo``: Ultralytics' ``yolo`` command line plus RHIS masks for detection models.

    rhis-yolo train model=yolo11n.pt data=people-seg.yaml epochs=10 rhis_mode=frozen   # head under a frozen detector
    rhis-yolo val model=runs/segment/train/weights/best.pt data=people-seg.yaml rhis=runs/segment/train/weights/rhis.pth
    rhis-yolo predict model=yolo11n.pt source=image.jpg save save_txt       # the bundled starter model
    rhis-yolo track model=rtdetr-l.pt source=video.mp4 rhis=rhis.pth rhis_dilate=1
    rhis-yolo export model=yolo11n.pt format=onnx nms                        # + yolo11n_rhis.onnx, yolo11n_rhis_end2end.onnx

Everything but the ``rhis*`` keys goes to Ultralytics' own entry point, so every ``yolo`` argument, bare flag, ``mode=``
and ``cfg=`` works as it does for ``yolo`` (a ``cfg=`` file may hold ``rhis*`` keys too). ``model=`` is required: ``yolo``'s
default would download one. RHIS keys:

- ``rhis``: the head: ``starter`` (default, the bundled starter model), an RHIS checkpoint (a training run's
  ``weights/rhis.pth``), an RHIS ONNX file (``rhis export``; predict and track, run by ONNX Runtime), ``random``
  (random weights of ``rhis_preset``, on purpose); ``train`` also takes ``imagenet`` (``rhis_preset`` with ImageNet
  encoders; the default for presets other than the starter's).
- ``rhis_peopleseg``: people-seg UNet weights to use instead of the head's (a stage-1 checkpoint or ``starter``).
- ``rhis_allow_random``: accept a head whose frozen people-seg UNet was never loaded or trained.
- ``train``: ``rhis_mode`` (``frozen``: the head alone, the detector kept as loaded; ``joint``: both),
  ``rhis_preset``, ``rhis_detector_boxes`` (frozen: also train on the detector's boxes that match a person; default
  True).
- ``predict`` / ``track`` / ``val`` / ``export``: ``rhis_classes`` (default: the class named person), ``rhis_conf``,
  ``rhis_threshold``, ``rhis_dilate``, ``rhis_smooth`` (``guided``/``gaussian``), ``rhis_binary``, ``rhis_keep_boxes``
  (boxes without an RHIS mask keep their rectangle, so that ``save_txt`` label files hold every box).

Train and val run Ultralytics' trainer and segmentation validator (``RHISTrainer``, ``RHISSegmentationValidator``):
``results.csv`` gets the mask columns, ``best.pt`` is chosen on mask fitness, and the run folder holds a plain
detector ``weights/best.pt`` plus the head ``weights/rhis.pth``.
"""
from __future__ import annotations

import sys
import tempfile
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Iterator, Sequence

from .offline import keep_offline

__all__ = ['main', 'split_arguments', 'RHISArgumentError']

RUN_MODES = ('train', 'val', 'predict', 'track', 'export')
FLAGS = ('rhis_allow_random', 'rhis_binary', 'rhis_keep_boxes', 'rhis_detector_boxes')
KEYS = ('rhis', 'rhis_mode', 'rhis_preset', 'rhis_peopleseg', 'rhis_classes', 'rhis_conf', 'rhis_threshold',
        'rhis_dilate', 'rhis_smooth', *FLAGS)
TRAIN_ONLY = ('rhis_mode', 'rhis_detector_boxes')
POSTPROCESS = {'rhis_threshold': 'threshold', 'rhis_dilate': 'dilation', 'rhis_smooth': 'smoothing'}
# yolo's commands that run no model (help, checks, settings, ...): passed through as they are.
SPECIAL = ('help', 'checks', 'version', 'settings', 'cfg', 'copy-cfg', 'login', 'logout', 'solutions')


class RHISArgumentError(ValueError):
    """A ``rhis*`` argument (or what it names) that cannot work; ``rhis-yolo`` prints it and exits with 2."""


def split_arguments(argv: Sequence[str], cfg_dir: Path) -> tuple[list[str], dict[str, Any]]:
    """-> (the arguments for Ultralytics' entry point, the ``rhis*`` keys and their values).

    A ``cfg=`` file's ``rhis*`` keys are taken out too (the command line wins); the rest of it is written to
    ``cfg_dir`` and handed on as ``cfg=``, since Ultralytics rejects keys it does not know.
    """
    import yaml
    from ultralytics.cfg import merge_equals_args, smart_value

    ultralytics_args, rhis, from_cfg = [], {}, {}
    for arg in merge_equals_args(list(argv)):
        key, sep, value = arg.partition('=')
        if key.startswith('rhis'):
            if key not in KEYS:
                raise RHISArgumentError(f"unknown RHIS argument '{key}': the RHIS keys are {', '.join(KEYS)}")
            if not sep and key not in FLAGS:
                raise RHISArgumentError(f"'{key}' needs a value ({key}=...); bare flags: {', '.join(FLAGS)}")
            rhis[key] = smart_value(value) if sep else True
        elif key == 'cfg' and sep and value:
            path = Path(value)
            if not path.is_file():
                raise RHISArgumentError(f'cfg file not found: {path}')
            content = yaml.safe_load(path.read_text()) or {}
            from_cfg.update({k: v for k, v in content.items() if str(k).startswith('rhis')})
            rest = {k: v for k, v in content.items() if not str(k).startswith('rhis')}
            cfg_dir.mkdir(parents=True, exist_ok=True)
            written = cfg_dir / path.name
            written.write_text(yaml.safe_dump(rest, sort_keys=False))
            ultralytics_args.append(f'cfg={written}')
        else:
            ultralytics_args.append(arg)
    unknown = sorted(k for k in from_cfg if k not in KEYS)
    if unknown:
        raise RHISArgumentError(f"unknown RHIS key(s) {', '.join(unknown)} in cfg: the RHIS keys are {', '.join(KEYS)}")
    return ultralytics_args, {**from_cfg, **rhis}


def _setting(args: Sequence[str], key: str) -> str | None:
    """The value of ``key=`` among the arguments or in a ``cfg=`` file (the arguments win), as Ultralytics reads it."""
    import yaml
    for arg in reversed(args):
        name, sep, value = arg.partition('=')
        if sep and name == key:
            return value
    for arg in args:
        name, sep, value = arg.partition('=')
        if sep and name == 'cfg':
            found = (yaml.safe_load(Path(value).read_text()) or {}).get(key)
            if found is not None:
                return str(found)
    return None


def run_mode(args: Sequence[str]) -> str:
    """The mode Ultralytics will run: a bare mode word, ``mode=``, the ``cfg=`` file's, or ``yolo``'s default."""
    from ultralytics.cfg import MODES
    from ultralytics.utils import DEFAULT_CFG
    words = [a for a in args if a in MODES]
    return words[-1] if words else (_setting(args, 'mode') or DEFAULT_CFG.mode or 'predict')


def _segmenter_options(rhis: dict[str, Any]) -> dict[str, Any]:
    from ..postprocess import PostprocessConfig
    classes = rhis.get('rhis_classes')
    options = {'classes': [classes] if isinstance(classes, int) else classes, 'conf': float(rhis.get('rhis_conf', 0.0)),
               'binary': bool(rhis.get('rhis_binary', False)), 'keep_boxes': bool(rhis.get('rhis_keep_boxes', False))}
    postprocess = {POSTPROCESS[k]: v for k, v in rhis.items() if k in POSTPROCESS}
    options['postprocess'] = PostprocessConfig(**postprocess)
    return options


def attach(model: Any, mode: str, rhis: dict[str, Any]) -> Any:
    """Gives an Ultralytics model what ``mode`` needs of RHIS; bad RHIS arguments raise :class:`RHISArgumentError`."""
    from ..models import rhis_from_weights
    from .export import export_with_rhis
    from .predict import SegmenterOptions, add_rhis
    from .train import build_training_head, rhis_trainer
    from .val import rhis_validator

    if model.task != 'detect':
        raise RHISArgumentError(f'RHIS gives masks to detection models; this is a {model.task} model (use a '
                                'detector, e.g. model=yolo11n.pt)')
    wrong = [k for k in TRAIN_ONLY if k in rhis and mode != 'train']
    if wrong:
        raise RHISArgumentError(f"{', '.join(wrong)} only apply to train (mode is {mode})")
    weights, peopleseg = rhis.get('rhis'), rhis.get('rhis_peopleseg')
    preset, allow_random = rhis.get('rhis_preset'), bool(rhis.get('rhis_allow_random', False))
    if str(weights).lower().endswith('.onnx') and mode not in ('predict', 'track'):
        raise RHISArgumentError(f'rhis={weights}: an RHIS ONNX file runs predict and track; {mode} takes the PyTorch '
                                'checkpoint (rhis=starter, a .pth)')
    try:
        if mode == 'train':
            if type(model).__name__ == 'RTDETR':
                raise RHISArgumentError('rhis-yolo train trains RHIS with YOLO detection models; RT-DETR runs '
                                        'predict, track, val and export with a trained head')
            build_training_head(weights, preset, peopleseg, allow_random)      # fails here, before any training
            model.train = partial(model.train, trainer=rhis_trainer(
                rhis.get('rhis_mode', 'frozen'), weights, preset, peopleseg, allow_random,
                bool(rhis.get('rhis_detector_boxes', True))))
            return model
        weights = 'starter' if weights is None else weights
        options = _segmenter_options(rhis)
        if mode in ('predict', 'track'):
            add_rhis(model, weights, preset, peopleseg=peopleseg, allow_random=allow_random, **options)
        elif mode == 'val':
            if type(model).__name__ == 'RTDETR':
                raise RHISArgumentError('rhis-yolo val scores YOLO detection models (NMS validator); RT-DETR '
                                        'runs predict, track and export')
            rhis_from_weights(weights, preset, allow_random, 'rhis-yolo val', peopleseg=peopleseg)   # fails early
            model.val = partial(model.val, validator=rhis_validator(weights, peopleseg, allow_random,
                                                                    SegmenterOptions(**options)))
        elif mode == 'export':
            head = rhis_from_weights(weights, preset, allow_random, 'rhis-yolo export', peopleseg=peopleseg,
                                     aux_heads=False)
            model.export = partial(export_with_rhis, model, head, options['classes'])
        else:
            raise RHISArgumentError(f"rhis-yolo runs the modes {', '.join(RUN_MODES)}; for {mode}, use yolo")
    except RHISArgumentError:
        raise
    except (FileNotFoundError, TypeError, ValueError) as error:     # RandomWeightsError is a ValueError
        raise RHISArgumentError(str(error)) from error
    return model


@contextmanager
def _rhis_entrypoint(argv: list[str], mode: str, rhis: dict[str, Any]) -> Iterator[None]:
    """Ultralytics' entry point reads ``ARGV`` and builds ``YOLO`` / ``RTDETR`` from the package: for the call, the
    arguments are ours and every model it builds comes out with RHIS attached (``attach``)."""
    import ultralytics
    import ultralytics.cfg as cfg

    saved = {name: ultralytics.__dict__.get(name) for name in ('YOLO', 'RTDETR')}
    saved_argv = cfg.ARGV

    def with_rhis(cls: type) -> Any:
        def build(*args: Any, **kwargs: Any) -> Any:
            return attach(cls(*args, **kwargs), mode, rhis)
        return build

    try:
        cfg.ARGV = ['rhis-yolo', *argv]
        for name in saved:
            setattr(ultralytics, name, with_rhis(getattr(ultralytics.models, name)))
        yield
    finally:
        cfg.ARGV = saved_argv
        for name, value in saved.items():
            if value is None:
                ultralytics.__dict__.pop(name, None)
            else:
                setattr(ultralytics, name, value)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``rhis-yolo`` with ``argv`` (default: the command line); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].lstrip('-') in ('h', 'help'):
        print(__doc__)
        return 0
    from ultralytics.cfg import entrypoint

    keep_offline()          # no auto-install, font or AMP-weights download behind the user's back
    if any(a.lstrip('-').lower() in SPECIAL for a in argv if '=' not in a):
        entrypoint(' '.join(['rhis-yolo', *argv]))
        return 0
    with tempfile.TemporaryDirectory(prefix='rhis-yolo-') as cfg_dir:
        try:
            args, rhis = split_arguments(argv, Path(cfg_dir))
            if _setting(args, 'model') is None:
                raise RHISArgumentError('model=... is required (a detector .pt, .yaml or export, e.g. model=yolo11n.pt)')
            mode = run_mode(args)
            if mode not in RUN_MODES:
                raise RHISArgumentError(f"rhis-yolo runs the modes {', '.join(RUN_MODES)}; for {mode}, use yolo")
            with _rhis_entrypoint(args, mode, rhis):
                entrypoint()
        except (RHISArgumentError, SyntaxError) as error:
            print(f'rhis-yolo: {error}', file=sys.stderr)
            return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
