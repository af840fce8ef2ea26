"""Seeds and CPU threads for every test.

``make test`` runs the suite on two pytest-xdist workers (``-n 2``): each worker and every process it starts then uses
one CPU thread (``OMP_NUM_THREADS``, torch's default; the README test gives it to tools with a ``--threads`` option),
so that the workers do not oversubscribe a two-core machine. Run alone (``pytest tests/...``), tests use two.
"""
import os

import numpy as np
import pytest
import torch
import torch.nn as nn

WORKERS = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
THREADS = max(1, 2 // WORKERS)
if WORKERS > 1:
    os.environ['OMP_NUM_THREADS'] = str(THREADS)      # inherited by the commands the tests run


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    torch.set_num_threads(THREADS)


def pytest_collection_modifyitems(items):
    """Tests marked slow first (a stable sort): on two workers the long runs start early and the short tests fill in
    around them, instead of one worker finishing a long run alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker('slow') is None)


class _TinyYolox(nn.Module):
    """A raw YOLOX head's output layout at input 64: 8x8 + 4x4 + 2x2 = 84 anchor points, 5 + 80 values each. Anchor
    ``i`` of stride 8 (cell (3, 2)) sees a person, anchor 8x8 + 5 (stride 16, cell (1, 1)) a car; the rest nothing."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(1, 84, 85) + 0 * images.mean()
        out[0, 2 * 8 + 3, :5] = torch.tensor([0.5, 0.5, np.log(2.0), np.log(4.0), 0.9])    # centre (28, 20), 16x32
        out[0, 2 * 8 + 3, 5] = 0.8                                                          # person: score 0.72
        out[0, 2 * 8 + 3 + 1, :6] = torch.tensor([-0.4, 0.5, np.log(2.0), np.log(4.0), 0.9, 0.5])  # NMS drops it
        out[0, 64 + 5, :5] = torch.tensor([0.5, 0.5, 0.0, 0.0, 0.9])
        out[0, 64 + 5, 5 + 2] = 0.9                                                        # a car
        return out


@pytest.fixture(scope='session')
def tiny_yolox_onnx(tmp_path_factory):
    """A raw YOLOX export in the layout of ``../shared/detectors/yolox_nano.onnx`` (which tests never need): one input
    [1, 3, 64, 64], one output [1, 84, 85]."""
    path = tmp_path_factory.mktemp('yolox') / 'yolox_tiny.onnx'
    torch.onnx.export(_TinyYolox(), torch.zeros(1, 3, 64, 64), str(path), input_names=['images'],
                      output_names=['output'], opset_version=17, dynamo=False)
    return path
