// attune/io: safetensors files (read, write atomically, refuse damaged ones). Node only.

// the engine (backends, autograd) comes up with the package root
import '../index.js';

export {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  loadSafetensorsHeader,
  type SafetensorsContents,
  saveSafetensors,
} from './safetensors.js';
