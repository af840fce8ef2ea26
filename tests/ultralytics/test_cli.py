"""`rhis-yolo`: Ultralytics' own entry point with rhis* arguments, yolo's grammar (bare flags, mode=, cfg=)."""
import subprocess
import sys
from pathlib import Path

import pytest
from ultralytics.utils import ASSETS

from rhis_plugin.models import build_rhis, save_rhis
from rhis_plugin.ultralytics.cli import RHISArgumentError, main, run_mode, split_arguments

RHIS_YOLO = Path(sys.executable).with_name('rhis-yolo')


def rhis_yolo(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([str(RHIS_YOLO), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600)


def rhis_yolo_in_process(capsys, *args) -> subprocess.CompletedProcess:
    """``rhis-yolo`` in this process, through the function its console script calls: for the error paths, where
    starting a process (Ultralytics' import) costs more than the check. An exception would fail the test."""
    code = main([*map(str, args)])
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def test_rhis_arguments_are_split_from_yolos(tmp_path):
    cfg = tmp_path / 'run.yaml'
    cfg.write_text('mode: val\nimgsz: 320\nrhis_dilate: 1\nrhis_conf: 0.5\n')
    args, rhis = split_arguments(['segment', 'predict', 'model=yolo11n.pt', 'save', 'conf', '=', '0.25', 'rhis=w.pth',
                                  'rhis_dilate=2', 'rhis_classes=0', 'rhis_binary', f'cfg={cfg}'], tmp_path / 'out')
    assert args[:5] == ['segment', 'predict', 'model=yolo11n.pt', 'save', 'conf=0.25']
    assert rhis == {'rhis': 'w.pth', 'rhis_dilate': 2, 'rhis_classes': 0, 'rhis_binary': True, 'rhis_conf': 0.5}
    written = Path(args[5].split('=', 1)[1])       # the cfg file without its rhis keys, handed to Ultralytics
    assert written.read_text() == 'mode: val\nimgsz: 320\n'
    assert run_mode(args) == 'predict' and run_mode([f'cfg={written}']) == 'val' and run_mode(['mode=export']) == 'export'


@pytest.mark.parametrize('argv, message', [
    (['rhis_oops=1'], 'unknown RHIS argument'),
    (['rhis_dilate'], 'needs a value'),
])
def test_bad_rhis_arguments(argv, message, tmp_path):
    with pytest.raises(RHISArgumentError, match=message):
        split_arguments(argv, tmp_path)


@pytest.mark.parametrize('line', [
    # yolo's predict grammar: bare flags, spaces around '=', mode=, a cfg file
    'predict model=yolo11n.yaml source={bus} imgsz=64 conf=0.0 max_det=2 save save_txt save_conf show_labels=False',
    'mode=predict model=yolo11n.yaml source={bus} imgsz = 64 conf=0.0 max_det=2 retina_masks save_crop=False '
    'rhis_dilate=1 rhis_keep_boxes',
    'model=yolo11n.yaml source={bus} cfg={cfg}',
])
def test_yolo_predict_lines_are_accepted(line, tmp_path):
    cfg = tmp_path / 'predict.yaml'
    cfg.write_text('mode: predict\nimgsz: 64\nconf: 0.0\nmax_det: 2\nsave: true\nrhis_threshold: 0.4\n')
    args = line.format(bus=ASSETS / 'bus.jpg', cfg=cfg).split() + [f'project={tmp_path}', 'name=run', 'exist_ok']
    result = rhis_yolo(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / 'run' / 'bus.jpg').is_file()


def test_unknown_yolo_keys_and_missing_model_are_clear_errors(capsys):
    result = rhis_yolo_in_process(capsys, 'predict', 'model=yolo11n.yaml', 'imgzs=64')
    assert result.returncode == 2 and "'imgzs' is not a valid YOLO argument" in result.stderr
    result = rhis_yolo_in_process(capsys, 'predict', 'source=a.jpg')
    assert result.returncode == 2 and 'model=... is required' in result.stderr
    result = rhis_yolo_in_process(capsys, 'predict', 'model=yolo11n.yaml', 'rhis_mode=joint')
    assert result.returncode == 2 and 'only apply to train' in result.stderr


def test_bad_weights_are_a_clear_error(tmp_path, capsys):
    result = rhis_yolo_in_process(capsys, 'predict', 'model=yolo11n.yaml', f'source={ASSETS / "bus.jpg"}',
                                  f'rhis={tmp_path / "no.pth"}')
    assert result.returncode == 2 and 'RHIS checkpoint not found' in result.stderr and 'Traceback' not in result.stderr


def test_a_random_people_seg_unet_is_refused_unless_asked(tmp_path, capsys):
    weights = save_rhis(build_rhis('rhis_b0_64x48'), tmp_path / 'rhis_b0.pth')
    result = rhis_yolo_in_process(capsys, 'predict', 'model=yolo11n.yaml', f'source={ASSETS / "bus.jpg"}',
                                  f'rhis={weights}', 'imgsz=64')
    assert result.returncode == 2 and 'rhis_peopleseg=' in result.stderr and 'Traceback' not in result.stderr
    result = rhis_yolo('predict', 'model=yolo11n.yaml', f'source={ASSETS / "bus.jpg"}', f'rhis={weights}', 'imgsz=64',
                       'rhis_allow_random', 'conf=0.0', 'max_det=2', 'save', f'project={tmp_path}', 'name=run',
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]


def test_export_writes_the_detector_rhis_and_one_merged_file(tmp_path):
    result = rhis_yolo('export', 'model=yolo11n.yaml', 'format=onnx', 'imgsz=64', 'nms', 'simplify=False', cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert {p.name for p in tmp_path.glob('*.onnx')} == {'yolo11n.onnx', 'yolo11n_rhis.onnx',
                                                         'yolo11n_rhis_end2end.onnx'}
