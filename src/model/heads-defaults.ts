/** Score a term head needs when no vocabulary line or calibration sets a threshold (chosen on the real-speech benchmark's part A). */
export const DEFAULT_HEADS_THRESHOLD = 0.5;
