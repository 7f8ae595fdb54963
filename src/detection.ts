/**
 * What a detection is, shared by the keyword search (which makes them) and the publisher (which
 * sends them): a leaf module, so neither stage has to import the other.
 */
export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

export const SEVERITIES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

/** A term found in the audio. Times are seconds from the start of the segment's source. */
export interface Detection {
  term: string;
  category: string;
  severity: Severity;
  confidence: number;
  threshold: number;
  start: number;
  end: number;
  segmentId: string;
}

/** A detection with the loudness of its speech segment (dBFS, >= -150): what the listening path reports. */
export interface HeardDetection extends Detection {
  levelDbfs: number;
}
