"""mmengine resume / load_from under torch's weights_only=True default, through the plugin's loader."""
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import rhis_plugin.mmdet  # noqa: F401  (registers the checkpoint loader)
from rhis_plugin.mmdet.runner import load_local_checkpoint


class TinyRegressor(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, targets, mode='loss'):
        prediction = self.linear(torch.stack(inputs))
        return {'loss': ((prediction - torch.stack(targets)) ** 2).mean()}


class RandomPairs(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        g = torch.Generator().manual_seed(index)
        return {'inputs': torch.randn(2, generator=g), 'targets': torch.randn(1, generator=g)}


def make_runner(work_dir, max_iters, **kwargs) -> Runner:
    return Runner(
        model=TinyRegressor(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=RandomPairs(), batch_size=2, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=True)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)),
        log_level='WARNING', **kwargs)


def test_resume_continues_from_the_last_checkpoint(tmp_path):
    make_runner(tmp_path, max_iters=4).train()
    checkpoint = tmp_path / 'iter_4.pth'
    # Without the plugin's loader this is what mmengine would hit:
    with pytest.raises(pickle.UnpicklingError):
        torch.load(checkpoint)
    saved = load_local_checkpoint(str(checkpoint))
    assert isinstance(saved['message_hub']['log_scalars']['train/loss'], HistoryBuffer)

    runner = make_runner(tmp_path, max_iters=6, resume=True)
    runner.train()
    assert runner.iter == 6
    resumed = load_local_checkpoint(str(tmp_path / 'iter_6.pth'))
    assert resumed['meta']['iter'] == 6
    # The optimizer state survived the round trip (momentum buffers exist for every parameter).
    assert len(resumed['optimizer']['state']) == 2


def test_load_from_restores_weights(tmp_path):
    first = make_runner(tmp_path / 'a', max_iters=2)
    first.train()
    runner = make_runner(tmp_path / 'b', max_iters=2, load_from=str(tmp_path / 'a' / 'iter_2.pth'))
    runner.load_or_resume()
    for trained, loaded in zip(first.model.parameters(), runner.model.parameters()):
        assert torch.equal(trained, loaded)


def test_refuses_other_getattr_payloads(tmp_path):
    class Payload:
        def __reduce__(self):
            return getattr, (HistoryBuffer, '__subclasses__')

    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': Payload()}, path)
    with pytest.raises(pickle.UnpicklingError, match='not allowed'):
        load_local_checkpoint(str(path))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='can not be found'):
        load_local_checkpoint(str(tmp_path / 'nope.pth'))
