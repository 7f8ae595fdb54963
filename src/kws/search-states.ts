/**
 * Per-node search states, one typed array per field so the hot loop allocates nothing.
 * Each trie node has a phone state ("emitting its phone") and a blank state ("in the blank after it").
 */
export class NodeStates {
  /** Phone state: summed log ratio L (-Infinity = no path). */
  readonly phoneScore: Float64Array;
  /** Phone state: frame the path entered the keyword. */
  readonly phoneStart: Int32Array;
  /** Phone state: summed log peak posterior of the phones already finished. */
  readonly phoneDone: Float64Array;
  /** Phone state: best log posterior of the current phone so far. */
  readonly phonePeak: Float64Array;
  readonly blankScore: Float64Array;
  readonly blankStart: Int32Array;
  /** Blank state: summed log peak posterior of all phones up to this node. */
  readonly blankDone: Float64Array;

  constructor(nodes: number) {
    this.phoneScore = new Float64Array(nodes);
    this.phoneStart = new Int32Array(nodes);
    this.phoneDone = new Float64Array(nodes);
    this.phonePeak = new Float64Array(nodes);
    this.blankScore = new Float64Array(nodes);
    this.blankStart = new Int32Array(nodes);
    this.blankDone = new Float64Array(nodes);
  }
}
