import type { KeywordSpec, ThresholdOverrides } from './types.js';

/** One pronunciation of one keyword ending at a trie node. */
export interface KeywordEnd {
  /** Index into the keyword list given to the tree. */
  keyword: number;
  /** Which of the keyword's pronunciations. */
  pronunciation: number;
  /** Number of phones in that pronunciation. */
  phones: number;
  /** Threshold actually applied to this pronunciation (the short-term raise included). */
  threshold: number;
  /**
   * Score at which an occurrence claims its span against the shorter terms it covers ("gearbox" over
   * "gear"): the vocabulary's threshold, or `threshold` when a calibration set it lower. A calibration
   * that raises a term stops it being reported, not its speech being heard as the shorter term.
   */
  coverThreshold: number;
  /** Keyword boost (log bonus per phone). */
  boost: number;
}

export interface PrefixTreeOptions {
  /** Pronunciations shorter than this are refused (too prone to false alarms to spot on their own). */
  minPhones: number;
  /** Terms with fewer phones than this get a stricter threshold... */
  shortTermPhones: number;
  /** ...raised by this much per missing phone (capped at MAX_THRESHOLD). */
  shortTermThresholdRaise: number;
}

/** Highest effective threshold the short-term raise may produce. */
export const MAX_THRESHOLD = 0.99;

/**
 * All pronunciations of all keywords in one trie, flattened into typed arrays for the search's hot loop.
 * Node 0 is the root (no phone). Shared prefixes share nodes; a node may end several keywords.
 */
export interface PrefixTree {
  readonly nodeCount: number;
  /** Model token index each node emits (-1 for the root). */
  readonly nodeToken: Int32Array;
  readonly nodeParent: Int32Array;
  /** 1 when the node's phone equals its parent's (CTC needs a blank between them), else 0. */
  readonly nodeRepeatsParent: Uint8Array;
  /** Children of node n are childList[childStart[n] .. childStart[n+1]). */
  readonly childStart: Int32Array;
  readonly childList: Int32Array;
  /**
   * Admissible pruning bound: a partial path at node n whose summed log ratio is below nodeBound[n]
   * can no longer reach any keyword below n with a confidence over that keyword's cover threshold.
   */
  readonly nodeBound: Float64Array;
  /** Same bound over node n's children only: what a path that has finished n's phone still needs (Infinity at leaves). */
  readonly continueBound: Float64Array;
  /**
   * The bounds paths are actually pruned at: the same arrays as nodeBound/continueBound, or, when a
   * score floor below some threshold is set (a ScoreSink listens), the bounds of min(threshold, floor).
   */
  readonly pruneNodeBound: Float64Array;
  readonly pruneContinueBound: Float64Array;
  /** Keywords ending at node n are ends[endStart[n] .. endStart[n+1]). */
  readonly endStart: Int32Array;
  readonly ends: readonly KeywordEnd[];
}

interface BuildNode {
  token: number;
  parent: number;
  children: Map<number, number>;
  ends: KeywordEnd[];
}

export interface PrefixTreeExtras {
  /** Final per-term thresholds replacing the keyword's (no short-term raise applied to them). */
  thresholds?: ThresholdOverrides;
  /** Keep paths alive that can still reach this score (for a ScoreSink), not only the threshold. */
  scoreFloor?: number;
}

/** The threshold applied to a pronunciation of `phones` phones. */
export function effectiveThreshold(threshold: number, phones: number, options: PrefixTreeOptions): number {
  const missing = Math.max(0, options.shortTermPhones - phones);
  return Math.min(MAX_THRESHOLD, Math.max(threshold, threshold + missing * options.shortTermThresholdRaise));
}

/** Builds the trie; throws naming the keyword when a pronunciation uses a token the model lacks. */
export function buildPrefixTree(keywords: readonly KeywordSpec[], tokens: readonly string[], options: PrefixTreeOptions, extras: PrefixTreeExtras = {}): PrefixTree {
  const floor = extras.scoreFloor;
  if (floor !== undefined && !(floor >= 0 && floor <= 1)) throw new Error(`keyword search: score floor ${floor} is outside [0,1]`);
  const tokenIndex = new Map(tokens.map((token, i) => [token, i]));
  const nodes: BuildNode[] = [{ token: -1, parent: -1, children: new Map(), ends: [] }];
  keywords.forEach((keyword, k) => {
    if (!(keyword.threshold >= 0 && keyword.threshold <= 1)) {
      throw new Error(`keyword "${keyword.term}": threshold ${keyword.threshold} is outside [0,1]; fix the vocabulary entry`);
    }
    if (!Number.isFinite(keyword.boost)) throw new Error(`keyword "${keyword.term}": boost ${keyword.boost} is not a number`);
    if (keyword.pronunciations.length === 0) throw new Error(`keyword "${keyword.term}" has no pronunciation; add one to the vocabulary`);
    const override = extras.thresholds?.get(keyword.term);
    if (override !== undefined && !(override >= 0 && override <= 1)) {
      throw new Error(`keyword "${keyword.term}": calibrated threshold ${override} is outside [0,1]; recalibrate`);
    }
    keyword.pronunciations.forEach((phones, p) => {
      if (phones.length < options.minPhones) {
        throw new Error(
          `keyword "${keyword.term}": pronunciation "${phones.join(' ')}" has ${phones.length} phone(s); ` +
            `at least ${options.minPhones} are needed (a shorter term would fire on almost any speech)`,
        );
      }
      let node = 0;
      for (const phone of phones) {
        const token = tokenIndex.get(phone);
        if (token === undefined) {
          throw new Error(`keyword "${keyword.term}": phone "${phone}" in "${phones.join(' ')}" is not one of the model's tokens`);
        }
        let child = nodes[node].children.get(token);
        if (child === undefined) {
          child = nodes.length;
          nodes.push({ token, parent: node, children: new Map(), ends: [] });
          nodes[node].children.set(token, child);
        }
        node = child;
      }
      const own = effectiveThreshold(keyword.threshold, phones.length, options);
      const threshold = override ?? own;
      const ends = nodes[node].ends;
      // The same keyword listing one pronunciation twice ends once.
      if (!ends.some((e) => e.keyword === k)) {
        ends.push({ keyword: k, pronunciation: p, phones: phones.length, threshold, coverThreshold: Math.min(threshold, own), boost: keyword.boost });
      }
    });
  });
  return flatten(nodes, floor);
}

/**
 * Admissible pruning bounds (see PrefixTree.nodeBound) at each end's cover threshold (at most its
 * threshold: paths are kept that can still claim a span), lowered to `floor` when that is lower. Children have larger indices than parents, so a reverse sweep sees every
 * subtree first. Bounds never fall from a node to its children and scores never rise along a path,
 * so a path below a bound stays below it: pruning at the floor's lower bounds keeps every path the
 * threshold's bounds keep, with the same scores.
 */
function bounds(nodes: BuildNode[], floor: number): { nodeBound: Float64Array; continueBound: Float64Array } {
  const n = nodes.length;
  const nodeBound = new Float64Array(n).fill(Infinity);
  const continueBound = new Float64Array(n).fill(Infinity);
  for (let i = n - 1; i > 0; i--) {
    for (const end of nodes[i].ends) {
      // confidence = exp(L / phones + boost) >= threshold  <=>  L >= phones * (ln threshold - boost)
      const need = end.phones * (Math.log(Math.max(Math.min(end.coverThreshold, floor), 1e-30)) - end.boost);
      if (need < nodeBound[i]) nodeBound[i] = need;
    }
    if (continueBound[i] < nodeBound[i]) nodeBound[i] = continueBound[i];
    const parent = nodes[i].parent;
    if (nodeBound[i] < continueBound[parent]) continueBound[parent] = nodeBound[i];
  }
  return { nodeBound, continueBound };
}

function flatten(nodes: BuildNode[], floor: number | undefined): PrefixTree {
  const n = nodes.length;
  const nodeToken = new Int32Array(n);
  const nodeParent = new Int32Array(n);
  const nodeRepeatsParent = new Uint8Array(n);
  const childStart = new Int32Array(n + 1);
  const childList = new Int32Array(Math.max(0, n - 1));
  const endStart = new Int32Array(n + 1);
  const ends: KeywordEnd[] = [];
  let childAt = 0;
  for (let i = 0; i < n; i++) {
    const node = nodes[i];
    nodeToken[i] = node.token;
    nodeParent[i] = node.parent;
    nodeRepeatsParent[i] = node.parent > 0 && nodes[node.parent].token === node.token ? 1 : 0;
    childStart[i] = childAt;
    for (const child of node.children.values()) childList[childAt++] = child;
    endStart[i] = ends.length;
    ends.push(...node.ends);
  }
  childStart[n] = childAt;
  endStart[n] = ends.length;
  const { nodeBound, continueBound } = bounds(nodes, Infinity);
  const lowers = floor !== undefined && ends.some((e) => floor < e.coverThreshold);
  const prune = lowers ? bounds(nodes, floor) : { nodeBound, continueBound };
  return {
    nodeCount: n, nodeToken, nodeParent, nodeRepeatsParent, childStart, childList, nodeBound, continueBound,
    pruneNodeBound: prune.nodeBound, pruneContinueBound: prune.continueBound, endStart, ends,
  };
}
