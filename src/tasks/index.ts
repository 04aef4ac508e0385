// attune/tasks: the three shipped tasks — image recognition (a ViT on
// Fashion-MNIST), translation and summarization (an encoder-decoder on
// Debian's package descriptions) — with their training loops and decoding.

// the engine (backends, autograd) comes up with the package root
import '../index.js';

export { accuracy } from './image/evaluate.js';
export { createImageModel, DEFAULT_IMAGE_VIT } from './image/model.js';
export { classifyPngFiles, loadImageClassifier, type Prediction } from './image/predict.js';
export { type ImageTrainOptions, type ImageTrainResult, trainImageClassifier } from './image/train.js';
export { type LoadedSeq2Seq, loadSeq2Seq } from './seq2seq/checkpoint.js';
export { type Generated, type GenerateOptions, generate } from './seq2seq/generate.js';
export { beamSearch, greedySearch } from './seq2seq/search.js';
export { type Seq2SeqTask, type Seq2SeqTrainOptions, type Seq2SeqTrainResult, trainSeq2Seq } from './seq2seq/train.js';
export { baselineRouge, firstSentence, firstWords, loadSummarizationData, summarizationTask } from './summarization/task.js';
export { copySourceBleu, loadTranslationData, TRANSLATION_SETS, translationTask } from './translation/task.js';
