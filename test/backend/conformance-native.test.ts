// The conformance suite on the native (N-API) backend, where it is built and
// loads; skipped with the reason otherwise.

import { getBackend, listBackends, withBackend } from '../../src/backend/backend.ts';
import { describeBackendConformance } from './conformance.ts';

getBackend();
/** Loads the native backend (setBackend('native') does); false, or why it cannot run here. */
function unavailable(): string | false {
  if (!listBackends().includes('native')) return 'the native backend is not registered here';
  try {
    withBackend('native', getBackend);
    return false;
  } catch (e) {
    return `the native backend did not load (see 'attune info'): ${(e as Error).message}`;
  }
}
describeBackendConformance('native', { skip: unavailable() });
