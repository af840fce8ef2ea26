"""RT-DETR in mmdet: DINO with the hybrid encoder in place of the deformable transformer encoder.

Zhao et al., "DETRs Beat YOLOs on Real-time Object Detection", https://arxiv.org/abs/2304.08069.
- the neck is :class:`~rhis_plugin.mmdet.models.necks.RHISHybridEncoder` (AIFI + CCFM); its flattened
  multi-scale output is the decoder's memory directly, there is no deformable encoder;
- IoU-aware query selection: the top-k encoder tokens by class score give the initial boxes *and* the content
  queries (RT-DETR takes the selected encoder features, DINO a learned embedding); training the selection with
  :class:`~rhis_plugin.mmdet.models.losses.RHISVarifocalLoss` makes those scores IoU-aware;
- decoder, denoising query groups and the detection head are mmdet's DINO ones.
"""
from __future__ import annotations

from typing import Dict, Tuple

import torch
import torch.nn as nn
from mmdet.models.detectors.deformable_detr import DeformableDETR, MultiScaleDeformableAttention
from mmdet.models.detectors.dino import DINO
from mmdet.models.layers import DinoTransformerDecoder, SinePositionalEncoding
from mmdet.registry import MODELS
from mmdet.structures import OptSampleList

__all__ = ['RHISRTDETR']


@MODELS.register_module()
class RHISRTDETR(DINO):
    """Config as for DINO, with ``neck=dict(type='RHISHybridEncoder', ...)`` and ``encoder=None``."""

    def _init_layers(self) -> None:
        # Used by DeformableDETR.pre_transformer for padding masks; no learned parameters.
        self.positional_encoding = SinePositionalEncoding(**self.positional_encoding)
        self.decoder = DinoTransformerDecoder(**self.decoder)
        self.embed_dims = self.decoder.embed_dims
        # RT-DETR adds no level embedding: a zero buffer keeps the inherited pre_transformer unchanged.
        self.register_buffer('level_embed', torch.zeros(self.num_feature_levels, self.embed_dims),
                             persistent=False)
        self.memory_trans_fc = nn.Linear(self.embed_dims, self.embed_dims)
        self.memory_trans_norm = nn.LayerNorm(self.embed_dims)

    def init_weights(self) -> None:
        super(DeformableDETR, self).init_weights()
        for p in self.decoder.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        for m in self.modules():
            if isinstance(m, MultiScaleDeformableAttention):
                m.init_weights()
        nn.init.xavier_uniform_(self.memory_trans_fc.weight)

    def forward_encoder(self, feat: torch.Tensor, feat_mask: torch.Tensor, spatial_shapes: torch.Tensor,
                        **kwargs) -> Dict:
        """The hybrid encoder (the neck) already encoded the features: they are the memory."""
        return dict(memory=feat, memory_mask=feat_mask, spatial_shapes=spatial_shapes)

    def pre_decoder(self, memory: torch.Tensor, memory_mask: torch.Tensor, spatial_shapes: torch.Tensor,
                    batch_data_samples: OptSampleList = None) -> Tuple[Dict]:
        batch, tokens, channels = memory.shape
        if tokens < self.num_queries:
            raise ValueError(f'RT-DETR selects {self.num_queries} queries from {tokens} encoder tokens: use a larger '
                             'input size or a smaller num_queries')
        layer = self.decoder.num_layers
        cls_out_features = self.bbox_head.cls_branches[layer].out_features
        output_memory, output_proposals = self.gen_encoder_output_proposals(memory, memory_mask, spatial_shapes)
        enc_outputs_class = self.bbox_head.cls_branches[layer](output_memory)
        enc_outputs_coord_unact = self.bbox_head.reg_branches[layer](output_memory) + output_proposals

        topk_indices = torch.topk(enc_outputs_class.max(-1)[0], k=self.num_queries, dim=1)[1]
        topk_score = torch.gather(enc_outputs_class, 1,
                                  topk_indices.unsqueeze(-1).expand(-1, -1, cls_out_features))
        topk_coords_unact = torch.gather(enc_outputs_coord_unact, 1, topk_indices.unsqueeze(-1).expand(-1, -1, 4))
        topk_coords = topk_coords_unact.sigmoid()
        reference_points = topk_coords_unact.detach()
        query = torch.gather(output_memory, 1, topk_indices.unsqueeze(-1).expand(-1, -1, channels)).detach()

        dn_mask = dn_meta = None
        if self.training:
            dn_label_query, dn_bbox_query, dn_mask, dn_meta = self.dn_query_generator(batch_data_samples)
            query = torch.cat([dn_label_query, query], dim=1)
            reference_points = torch.cat([dn_bbox_query, reference_points], dim=1)
        decoder_inputs_dict = dict(query=query, memory=memory, reference_points=reference_points.sigmoid(),
                                   dn_mask=dn_mask)
        head_inputs_dict = dict(enc_outputs_class=topk_score, enc_outputs_coord=topk_coords,
                                dn_meta=dn_meta) if self.training else dict()
        return decoder_inputs_dict, head_inputs_dict
