"""The README's commands and code run as written."""
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / 'README.md').read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf'```{language}\n(.*?)```', README, flags=re.S)


def tool_commands() -> list[str]:
    """Every `python tools/...` line of the README's bash blocks, in order."""
    lines = [line.strip() for block in code_blocks('bash') for line in block.splitlines()]
    return [line for line in lines if line.startswith('python tools/')]


def test_python_blocks_run():
    blocks = code_blocks('python')
    assert blocks
    for block in blocks:
        exec(compile(block, 'README.md', 'exec'), {})


@pytest.mark.slow
def test_tool_commands_run_and_the_model_learns(tmp_path):
    commands = tool_commands()
    assert any('make_synthetic.py' in c for c in commands) and any('train_rhis.py' in c for c in commands)
    for command in commands:
        args = shlex.split(command)
        args[0], args[1] = sys.executable, str(ROOT / args[1])
        result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=1200)
        assert result.returncode == 0, f'{command}\n{result.stderr[-3000:]}'
    # The README's training run learns: held-out target IoU clearly above filling the box.
    from rhis_plugin.data.coco_dataset import CocoPersonDataset
    from rhis_plugin.models import load_rhis
    from rhis_plugin.training import evaluate_target_iou
    metrics = evaluate_target_iou(load_rhis(tmp_path / 'work_dirs/rhis.pth'),
                                  CocoPersonDataset(tmp_path / 'data/synthetic/val'))
    print(json.dumps(metrics))
    assert metrics['target_iou'] > metrics['box_filled_iou'] + 0.1, metrics
