// attune/viz: attention maps (data, rollout, HTML pages, PNG and SVG), the
// tuning report and the live dashboard. Node only (it writes files and serves).

// the engine (backends, autograd) comes up with the package root
import '../index.js';

export {
  type AttentionLayerMap,
  type AttentionMaps,
  attentionMapsFromWeights,
  attentionRollout,
  classTokenToPatches,
  downsampleMax,
  type LayerWeights,
  meanOverHeads,
} from './attention-maps.js';
export { type AttentionPageOptions, renderAttentionHtml } from './attention-page.js';
export { writeCheckpointAttention } from './checkpoint-attention.js';
export { Dashboard, type DashboardOptions } from './dashboard-server.js';
export { heatmapPng, heatmapSvg, overlayPng } from './heatmap-image.js';
export { seq2seqAttention, tokenLabels, visionTransformerAttention } from './model-attention.js';
export { buildReportParts, type ReportOptions, renderStudyReport, type StudyData } from './report.js';
