"""Deployment: ONNX export with the RHIS contract and an ONNX Runtime backend."""
from .._optional import require

require('onnx', extra='onnx', feature='rhis_plugin.deploy')
require('onnxruntime', extra='onnx', feature='rhis_plugin.deploy')

from .export import ExportWrapper, export_onnx  # noqa: E402
from .export_refiner import FixedGuidedFilter, export_refiner_onnx  # noqa: E402
from .runtime import OnnxRHIS  # noqa: E402

__all__ = ['ExportWrapper', 'export_onnx', 'FixedGuidedFilter', 'export_refiner_onnx', 'OnnxRHIS']
