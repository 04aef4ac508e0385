// The image model: a Vision Transformer sized for 28×28 grayscale images.
// Default: patch 7 (a 4×4 grid of 16 patches), width 64, depth 4, 4 heads,
// MLP 2× — the ViT of the PyTorch reference and of bench/train-vit.

import { VisionTransformer, type VisionTransformerConfig } from '../../nn/vision-transformer.js';

export const DEFAULT_IMAGE_VIT: VisionTransformerConfig = {
  imageSize: 28,
  patchSize: 7,
  channels: 1,
  numClasses: 10,
  dim: 64,
  depth: 4,
  numHeads: 4,
  mlpRatio: 2,
  dropout: 0,
  pool: 'cls',
  position: 'learned',
};

export function createImageModel(config: Partial<VisionTransformerConfig> = {}, seed = 1): VisionTransformer {
  return new VisionTransformer({ ...DEFAULT_IMAGE_VIT, ...config }, { seed });
}
