// The speaker's fault cases (testing/speaker-cases.ts) as shipped.
import { SPEAKER_MODES, speakerCases } from '../testing/speaker-cases.js';

speakerCases(SPEAKER_MODES.shipped);
