"""Runner helpers: checkpoint loading (one module for every head and tool), command-line configs and short,
iteration-budgeted runs."""
from .checkpoint import (checkpoint_state_dict, load_local_checkpoint, load_peopleseg_checkpoint, load_rhis_checkpoint,
                         register_checkpoint_loader)
from .cli_config import configure_cpu_distributed, load_cli_config, parse_runner_args
from .short_run import data_root_env, short_run_config, train_and_validate

__all__ = ['checkpoint_state_dict', 'load_local_checkpoint', 'load_peopleseg_checkpoint', 'load_rhis_checkpoint',
           'register_checkpoint_loader', 'configure_cpu_distributed', 'load_cli_config', 'parse_runner_args',
           'data_root_env', 'short_run_config', 'train_and_validate']
