// The speaker's fault cases (testing/speaker-cases.ts) with LAN heartbeats on (--heartbeats).
import { SPEAKER_MODES, speakerCases } from '../testing/speaker-cases.js';

speakerCases(SPEAKER_MODES.heartbeats);
