// The speaker's fault cases (testing/speaker-cases.ts) with the slow liveness Lease (--liveness=slow).
import { SPEAKER_MODES, speakerCases } from '../testing/speaker-cases.js';

speakerCases(SPEAKER_MODES.slowLiveness);
