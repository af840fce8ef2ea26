"""Seeds and CPU threads for every test.

``make test`` runs the suite on two pytest-xdist workers (``-n 2``): each worker and every process it starts then uses
one CPU thread (``OMP_NUM_THREADS``, torch's default; the README test gives it to tools with a ``--threads`` option),
so that the workers do not oversubscribe a two-core machine. Run alone (``pytest tests/...``), tests use two.
"""
import os

import pytest
import torch

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
