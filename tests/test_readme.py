"""The README's commands and code run as written."""
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rhis_plugin.models.presets import DEFAULT_PRESET

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / 'README.md').read_text()
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def code_blocks(language: str) -> list[str]:
    return re.findall(rf'```{language}\n(.*?)```', README, flags=re.S)


def commands(prefix: str) -> list[str]:
    """Every line of the README's bash blocks that starts with ``prefix``, in order."""
    lines = [line.strip() for block in code_blocks('bash') for line in block.splitlines()]
    return [line for line in lines if line.startswith(prefix)]


# Appended to the README's mim commands: the same commands, on 8 + 4 images at 128x128 for one epoch. The Resize
# steps are found by type in each pipeline (resize_options).
TINY = ['train_cfg.max_epochs=1', 'train_dataloader.batch_size=2', 'train_dataloader.dataset.indices=8',
        'val_dataloader.dataset.indices=4', 'test_dataloader.dataset.indices=4',
        'default_hooks.visualization.draw=False',
        *[f'{loader}.{key}' for loader in LOADERS for key in ('num_workers=0', 'persistent_workers=False')]]
DETR = ['num_queries=50', 'test_cfg.max_per_img=20', 'dn_cfg.group_cfg.num_dn_queries=20']


# The README's benchmark commands (most on ../shared/data/pennfudan) run on the synthetic set with these budgets
# appended (argparse keeps the last value of an option).
SHARED_DATA = '../shared/data/pennfudan'
SHARED_COCO = '../shared/data/coco_person_train'
SHARED_DETECTOR = '../shared/detectors/yolox_nano.onnx'      # a benchmark file: tests run conftest's tiny YOLOX
TINY_TOOLS = {
    # Written into the temporary folder, never over the bundled starter model.
    'train_starter.py': ['--peopleseg-iters', '1', '--head-iters', '1', '--image-size', '64', '--out',
                         'starter/rhis.pth', '--card', 'starter/README.md', '--work-dir', 'work_dirs/starter_tiny'],
    'bench_pretrained.py': ['--peopleseg-iters', '1', '--iters', '1', '--seeds', '0', '--image-size', '64',
                            '--working-size', '64'],
    'kd_ablation.py': ['--teacher-iters', '1', '--student-iters', '1', '--image-size', '64', '64', '--batch-size', '2'],
    'bench_quality.py': ['--iters', '1', '--seeds', '0', '--image-size', '64', '--batch-size', '1',
                         '--peopleseg-iters', '1', '--max-rois', '1', '--latency-size', '64', '64'],
    'bench_peopleseg.py': ['--iters', '1', '--image-size', '64', '64', '--batch-size', '2', '--encoders', 'b0', 'b1'],
    # upstream_b0_64x48: the reference, so that the speed-ups over it are computed as well.
    'bench_speed.py': ['--presets', DEFAULT_PRESET, 'upstream_b0_64x48', '--rois', '10',
                       '--frame-sizes', '64x64', '96x128', '--detector-size', '64', '--repeats', '1', '--warmup', '0',
                       '--rounds', '1',
                       '--backends', 'torch_cpu', 'ort_cpu'],     # int8: tests/tools/test_bench_speed.py
    'bench_working_size.py': ['--sizes', '64', '--iters', '1', '--peopleseg-iters', '1', '--image-size', '64'],
    'merge_coco.py': [],
    # A random YOLO-seg model from its yaml stands in for the trained detectors; the RHIS rows, for the bench_quality
    # run's checkpoint of seed 0.
    'bench_same_boxes.py': ['--detector', 'yolo11n-seg.yaml', '--rhis',
                            'rhis=docs/results/quality/runs/rhis_lite0_64x48_seed0.pth', '--latency-images', '1'],
}


# Tools that set their own CPU threads (default 2) get the test's: one per pytest-xdist worker (tests/conftest.py).
THREADED_TOOLS = {'bench_peopleseg.py', 'bench_pretrained.py', 'bench_quality.py', 'bench_same_boxes.py',
                  'bench_speed.py', 'bench_working_size.py', 'train_starter.py'}
THREADS = os.environ.get('OMP_NUM_THREADS', '2')

# A bench_quality line with over two contenders runs these three instead (one of each family); others run their own.
TINY_CONTENDERS = ['rhis_lite0_64x48', 'fcn_lite0_14x14_dice_boundary', 'box_filled']


def is_benchmark(command: str) -> bool:
    return Path(shlex.split(command)[1]).name in TINY_TOOLS


# Flags whose values do not change a benchmark's code path: seeds, output paths, and --model-options (the options
# themselves are tested with the models; an earlier line with --model-options runs the option-parsing path).
SAME_PATH_FLAGS = ('--seed', '--seeds', '--out', '--out-dir', '--model-options')


def same_path_repeats(commands: list[str]) -> set[str]:
    """Commands that repeat an earlier one up to the values of ``SAME_PATH_FLAGS``: the same code path."""
    seen, repeats = set(), set()
    for command in commands:
        key, skipping = [], False
        for arg in shlex.split(command):
            if arg.startswith('--'):
                skipping = arg in SAME_PATH_FLAGS
                key.append(arg)
            elif not skipping:
                key.append(arg)
        key = tuple(key)
        if key in seen:
            repeats.add(command)
        seen.add(key)
    return repeats


def flag_values(args: list[str], flag: str) -> list[str]:
    """The values of the last ``flag`` in ``args`` (argparse keeps the last occurrence), up to the next flag."""
    if flag not in args:
        return []
    following = args[len(args) - args[::-1].index(flag):]
    return following[:next((i for i, a in enumerate(following) if a.startswith('--')), len(following))]


def tiny_tool_args(command: str, data_root: Path, detector: Path) -> list[str]:
    """A benchmark command on the tiny synthetic set: data moved, budgets shrunk, checkpoints of the shrunk runs, the
    shared YOLOX file replaced by ``detector`` (a tiny graph of its layout)."""
    command = command.replace(SHARED_COCO, f'{data_root}/coco').replace(SHARED_DATA, str(data_root))
    command = command.replace(SHARED_DETECTOR, str(detector))
    command = re.sub(r'iter_\d+\.pth', 'iter_1.pth', command)
    args = shlex.split(command)
    tool = Path(args[1]).name
    extra = list(TINY_TOOLS[tool])
    if len(flag_values(args, '--contenders')) > 2:
        extra += ['--contenders', *TINY_CONTENDERS]
    if tool in THREADED_TOOLS:
        extra += ['--threads', THREADS]
    return [sys.executable, str(ROOT / args[1]), *args[2:], *extra]


def resize_options(cfg, size: str = '(128,128)') -> list[str]:
    """``--cfg-options`` that set every Resize step of the config's three pipelines, found by type."""
    options = []
    for loader in LOADERS:
        for index, step in enumerate(cfg[loader].dataset.pipeline):
            if step['type'] == 'Resize':
                options.append(f'{loader}.dataset.pipeline.{index}.scale={size}')
    assert options, 'the config has no Resize step'
    return options


def tiny_mim_args(command: str) -> list[str]:
    from mmengine.config import Config

    args = shlex.split(re.sub(r'epoch_\d+\.pth', 'epoch_1.pth', command))
    args[0] = str(Path(sys.executable).with_name('mim'))
    cfg = Config.fromfile(str(ROOT / args[3]))
    extra = TINY + resize_options(cfg)
    if cfg.model.type == 'RHISRTDETR':
        extra += [f'model.{option}' for option in DETR]
    elif cfg.model.get('detector', {}).get('type') == 'RHISRTDETR':
        extra += [f'model.detector.{option}' for option in DETR]
    # Configs chain the stages: their people-seg UNet is stage 1's last epoch, epoch 1 of the shrunk runs.
    roi_head = cfg.model.get('roi_head') or {}
    for key, head in (('model.roi_head', roi_head), ('model.roi_head.rhis', roi_head.get('rhis') or {})):
        checkpoint = str(head.get('peopleseg_checkpoint'))
        if re.search(r'epoch_\d+\.pth', checkpoint):
            extra.append(f'{key}.peopleseg_checkpoint=' + re.sub(r'epoch_\d+', 'epoch_1', checkpoint))
    if '--cfg-options' in args:
        return args + extra
    return args + ['--cfg-options', *extra]


def test_python_blocks_run():
    blocks = code_blocks('python')
    assert blocks
    for block in blocks:
        exec(compile(block, 'README.md', 'exec'), {})


def command_groups() -> dict[str, list[str]]:
    """The README's commands (benchmarks aside) in groups that run apart, each in README order after the commands that
    make the synthetic set: the mmdet commands, the Ultralytics ones (with the conversion to YOLO labels), and the
    rest (training, export, ``rhis``), which any new command joins."""
    tools = [c for c in commands('python tools/') if not is_benchmark(c)]
    setup = [c for c in tools if 'make_synthetic.py' in c]
    yolo = [c for c in tools if 'coco_to_yolo.py' in c] + commands('rhis-yolo ')
    rest = [c for c in tools if c not in setup + yolo] + commands('rhis ')
    return {name: setup + group for name, group in (('rhis', rest), ('rhis-yolo', yolo), ('mim', commands('mim ')))}


def run_logged(args: list[str], cwd: Path, env: dict, label: str) -> subprocess.CompletedProcess:
    start = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=1200, env=env)
    print(f'{time.perf_counter() - start:6.1f} s  {label}')
    return result


@pytest.mark.slow
@pytest.mark.parametrize('group', list(command_groups()))
def test_commands_run_and_the_model_learns(tmp_path, group):
    groups = command_groups()
    assert any('train_rhis.py' in c for c in groups['rhis']) and len(groups['rhis-yolo']) > 3
    (tmp_path / 'configs').symlink_to(ROOT / 'configs')
    # Ultralytics as for a user whose runs_dir is runs/ of the folder the commands run in (its own settings command,
    # into settings of this test), and not told that pytest runs (PYTEST_CURRENT_TEST sends runs into its package).
    env = {k: v for k, v in os.environ.items() if k != 'PYTEST_CURRENT_TEST'}
    env.update(PYTHONWARNINGS='ignore', YOLO_CONFIG_DIR=str(tmp_path / 'ultralytics_settings'))
    if group == 'rhis-yolo':
        settings = subprocess.run([str(Path(sys.executable).with_name('rhis-yolo')), 'settings',
                                   f'runs_dir={tmp_path / "runs"}'], cwd=tmp_path, capture_output=True, text=True,
                                  env=env)
        assert settings.returncode == 0, settings.stderr
    saved = []
    for command in groups[group]:
        if command.startswith('mim '):     # shrunk to a tiny budget, on the synthetic set the commands above made
            result = run_logged(tiny_mim_args(command), tmp_path, env, command)
            output = result.stdout + result.stderr
            assert result.returncode == 0, f'{command}\n{output[-4000:]}'
            if ' test ' in command and 'peopleseg' not in command:
                assert 'bbox_mAP_copypaste' in output and 'segm_mAP_copypaste' in output, output[-3000:]
            elif ' test ' in command:
                assert 'peopleseg/iou' in output, output[-3000:]
            continue
        args = shlex.split(command)
        if args[0] == 'python':
            args[0], args[1] = sys.executable, str(ROOT / args[1])
        else:
            args[0] = str(Path(sys.executable).with_name(args[0]))
        result = run_logged(args, tmp_path, env, command)
        assert result.returncode == 0, f'{command}\n{result.stderr[-3000:]}'
        output = re.sub(r'\x1b\[[0-9;]*m', '', result.stdout + result.stderr)
        saved += re.findall(r'Results saved to (\S+)', output)
    if group == 'rhis-yolo':
        assert saved and list(Path(tmp_path, saved[-1]).glob('*.jpg')), 'rhis-yolo predict wrote no image'
    elif group == 'rhis':
        assert len(list((tmp_path / 'outputs' / 'pred' / 'overlays').glob('*.jpg'))) == 50, 'rhis predict wrote nothing'
        # The README's training run learns: held-out target IoU clearly above filling the box.
        from rhis_plugin.data.coco_dataset import CocoPersonDataset
        from rhis_plugin.deploy import RHISBackend, evaluate_rhis
        metrics = evaluate_rhis(RHISBackend(tmp_path / 'work_dirs/rhis.pth'),
                                CocoPersonDataset(tmp_path / 'data/synthetic/val'))
        print(json.dumps(metrics))
        assert metrics['target_iou'] > metrics['box_filled_iou'] + 0.1, metrics
    else:
        assert any(' train ' in c for c in groups['mim']) and any(' test ' in c for c in groups['mim'])


def test_make_demo(tmp_path):
    """The README's main-job command, as written (its output folder moved to a temporary one): real photos,
    the starter model, people found and segmented in well under a minute."""
    assert 'make demo' in README
    result = subprocess.run(['make', '-C', str(ROOT), 'demo', f'DEMO_OUT={tmp_path / "demo"}'], capture_output=True,
                            text=True, timeout=600, env={**os.environ, 'PYTHONWARNINGS': 'ignore'})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = tmp_path / 'demo'
    assert sorted(p.name for p in (out / 'overlays').glob('*.jpg')) == ['bus.jpg', 'zidane.jpg']
    results = json.loads((out / 'results.json').read_text())
    bus = [r for r in results if r['file_name'] == 'bus.jpg']
    assert bus and all(r['score'] > 0 for r in bus) and len(list((out / 'masks').glob('*.png'))) == len(results)
    assert all(r['score'] == pytest.approx(r['detector_score'] * r['mask_quality'], rel=1e-5) for r in results)
    assert 'ms per image' in result.stdout
    from rhis_plugin.deploy.detectors import cached_ultralytics_weights
    if cached_ultralytics_weights('yolo11n.pt') is None:      # offline here: yolo11n.pt could not be downloaded
        assert 'falling back to HOG' in result.stdout and 'upright' in result.stdout, result.stdout[-2000:]


# The benchmark commands run in these groups, apart (a command needs only what its group's earlier ones save); the
# merged data sets (merge_coco) are made for each group, and a tool not named here joins 'rest'.
BENCHMARK_GROUPS = {'speed': ('bench_speed.py',), 'quality': ('bench_quality.py', 'bench_same_boxes.py'),
                    'kd': ('kd_ablation.py', 'bench_peopleseg.py')}


def benchmark_groups() -> dict[str, list[str]]:
    """The Results section's benchmark commands by group, in README order, same-path repeats left out."""
    benchmarks = [c for c in commands('python tools/') if is_benchmark(c)]
    benchmarks = [c for c in benchmarks if c not in same_path_repeats(benchmarks)]
    tool = {c: Path(shlex.split(c)[1]).name for c in benchmarks}
    setup = [c for c in benchmarks if tool[c] == 'merge_coco.py']
    named = {t for tools in BENCHMARK_GROUPS.values() for t in tools}
    groups = {name: [c for c in benchmarks if tool[c] in tools] for name, tools in BENCHMARK_GROUPS.items()}
    groups['rest'] = [c for c in benchmarks if tool[c] not in named and c not in setup]
    return {name: setup + group for name, group in groups.items()}


@pytest.mark.slow
@pytest.mark.parametrize('group', list(BENCHMARK_GROUPS) + ['rest'])
def test_benchmark_commands_run_on_a_tiny_budget(tmp_path, group, tiny_yolox_onnx):
    """The Results section's commands, as written but on the synthetic set with tiny budgets, in order (later
    ones load what earlier ones saved); every table they print has all its columns."""
    from rhis_plugin.data.synthetic import SceneConfig, generate_dataset
    all_tools = {Path(shlex.split(c)[1]).name for c in commands('python tools/') if is_benchmark(c)}
    assert all_tools == set(TINY_TOOLS)
    benchmarks = benchmark_groups()[group]
    data_root = tmp_path / 'data'
    scene = SceneConfig(height=80, width=80, min_persons=2, max_persons=3)
    generate_dataset(data_root / 'train', 4, seed=0, cfg=scene)
    generate_dataset(data_root / 'val', 3, seed=1, cfg=scene)
    generate_dataset(data_root / 'coco', 5, seed=2, cfg=scene, image_format='png')     # other file names: merged
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}
    outputs = {}
    for command in benchmarks:
        result = run_logged(tiny_tool_args(command, data_root, tiny_yolox_onnx), tmp_path, env, command)
        assert result.returncode == 0, f'{command}\n{result.stdout[-2000:]}{result.stderr[-3000:]}'
        args = shlex.split(command)
        out = next((args[args.index(flag) + 1] for flag in ('--metrics', '--out') if flag in args),
                   f"{args[args.index('--out-dir') + 1]}/summary.json" if '--out-dir' in args else None)
        if '--name' in args:
            out = f"{args[args.index('--out-dir') + 1]}/{args[args.index('--name') + 1]}/summary.json"
        if 'merge_coco' in command:
            assert (tmp_path / out / 'annotations.json').is_file() and 'images' in result.stdout
            continue
        outputs[out] = (command, json.loads((tmp_path / out).read_text()), result.stdout)
    assert len(outputs) == len([c for c in benchmarks if 'merge_coco' not in c]) > 0
    for out, (command, results, printed) in outputs.items():
        if 'kd_ablation' in command:
            metric = 'peopleseg/iou' if results['stage'] == 'peopleseg' else 'coco/segm_mAP'
            # A command given --teacher-checkpoint reuses that teacher (the later seeds) and trains only students.
            teacher = set() if '--teacher-checkpoint' in command else {'teacher'}
            assert set(results['runs']) == {'student', 'student_kd'} | teacher
            assert all(metric in run['metrics'] for run in results['runs'].values())
            assert 'distillation changes' in printed
            log = next((tmp_path / 'work_dirs/kd' / results['stage'] / 'student_kd').glob('*/*.log')).read_text()
            assert 'kd_temperature: 10.0000' in log, 'the temperature schedule is not in the log'
        elif 'starter' in out:
            assert set(results['head']['val']) == set(results['peopleseg']['val']) and len(results['head']['val']) == 2
            assert (tmp_path / 'starter' / 'rhis.pth').is_file() and '| mask AP |' in printed + (
                tmp_path / 'starter' / 'README.md').read_text()
        elif 'pretrained' in out:
            assert set(results['arms']) == {'lite0_scratch', 'lite0_imagenet', 'b0_scratch'}
            for row in results['arms'].values():
                assert len(row['val']) == 2 and all({'segm_AP', 'segm_AP_sd', 'unet_iou'} <= set(v)
                                                    for v in row['val'].values())
            assert '| rhis_lite0_64x48 | ImageNet |' in printed
        elif 'speed' in out:
            ours = results['rhis'][DEFAULT_PRESET]
            assert list(results['rhis']) == [DEFAULT_PRESET, 'upstream_b0_64x48']    # the default leads
            assert results['summary']['preset'] == DEFAULT_PRESET and results['summary']['rhis_overhead'] > 0
            assert set(results['detectors']) == {'yolo11n', 'yolo11n-seg'}
            assert set(ours['torch_cpu']) >= {'params', 'macs_per_roi', 'macs_per_image', 'latency_ms', 'peak_rss_mb',
                                              'paste_ms'}
            assert {size: set(v) for size, v in ours['ort_cpu']['latency_ms'].items()} == {'64x64': {'10'},
                                                                                          '96x128': {'10'}}
            assert ours['ratios']['macs_per_roi'] < 0.2 and 'speedup_ort_cpu_64x64_10' in ours['ratios']
            for key in ('rhis_overhead_ort_cpu_96x128', 'pipeline_vs_seg_ort_cpu_96x128', 'frame_scaling_ort_cpu'):
                assert key in ours['ratios'], key
            assert set(results['breakdown']) >= {'unet', 'roi_align', 'encoder', 'decoder', 'paste'}
            assert 'rhis_overhead' in printed and 'per stage' in printed
        elif 'same_boxes' in out:
            assert set(results['rows']) == {'own_masks', 'rhis'} and results['label'] in printed
            for row in results['rows'].values():
                assert len(row['val']) == len(results['val']) and row['latency_ms'] > 0
                assert all({'segm_AP', 'segm_AP_sd', 'segm_AP_occluded', 'bbox_AP'} <= set(c) for c in row['val'].values())
            assert '| own_masks | 1 |' in printed
        elif 'working_size' in out:
            row = results['sizes']['64']
            assert {'segm_AP', 'segm_AP_sd', 'unet_iou', 'gmac_480x640', 'ms_1080x1920'} <= set(row)
            assert 'working size vs quality' in printed
        elif 'peopleseg' in out:
            rows = results['encoders']
            assert rows['b0']['trained'].startswith('loaded') and rows['b1']['trained'] == '1 iterations'
            for row in rows.values():
                assert set(row['plain']) == set(row['guided']) == {'iou', 'dice', 'precision', 'recall', 'auroc'}
                assert row['params'] > 0 and row['gmacs'] > 0 and row['latency_ms'] > 0
            assert 'IoU+GF' in printed
        else:
            tiny = tiny_tool_args(command, data_root, tiny_yolox_onnx)
            assert set(results['contenders']) == set(flag_values(tiny, '--contenders'))
            for name, row in results['contenders'].items():
                assert row['seeds'] == [0] and row['unet_gmac'] > 0 and row['gmac_per_roi'] >= 0, name
                untrained = name in ('unet_in_box_lite0', 'box_filled', 'unet_in_box_b0')
                assert set(row['curve']) == ({'0'} if untrained else {'1'}), name
                for cells in row['curve'].values():
                    assert len(cells) == len(results['val'])
                    for c in cells.values():
                        assert {'segm_AP', 'segm_AP_sd', 'segm_AP_occluded', 'target_iou', 'unet_iou'} <= set(c)
            assert '| contender | iterations | seeds | mask AP |' in printed
            teacher = flag_values(shlex.split(command), '--teacher')    # an earlier line's trained checkpoint
            assert (results['distillation'] or {}).get('teacher') == (teacher[0] if teacher else None)
            jitter, detector = flag_values(tiny, '--jitter'), flag_values(tiny, '--detector')
            assert list(results['jitter'].values()) == ([float(v) for v in jitter] or [0.1, 0.06])
            assert (results['detector'] or {}).get('detector') == (Path(detector[0]).name if detector else None)
            if detector:        # its boxes scored at every curve point, with where the rest of the box AP goes
                for name, row in results['contenders'].items():
                    assert set(row['detector_curve']) == set(row['curve']), name
                assert 'detector boxes' in printed
    plots = [flag_values(shlex.split(command), '--plot') for command, _, _ in outputs.values()]
    assert all((tmp_path / p).stat().st_size > 1000 for paths in plots for p in paths)
    assert group != 'quality' or sum(plots, []) == ['docs/results/ap_vs_latency.png', 'docs/results/same_boxes.png']
    assert group != 'speed' or sum(plots, []) == ['docs/results/latency_vs_persons.png']
