// The conformance suite on the native (N-API) backend, where it is built and
// loads; skipped with the reason otherwise.

import { getBackend, listBackends } from '../../src/backend/backend.ts';
import { describeBackendConformance } from './conformance.ts';

getBackend();
describeBackendConformance('native', {
  skip:
    !listBackends().includes('native') && "the native backend is not registered here (not built, or it did not load: see 'attune info')",
});
