/**
 * One walk over the unevaluated part of a graph per eval: collects the nodes in
 * post-order (inputs first), numbers them, counts consumers, and hashes the graph's
 * structure (which node feeds which, plus the hashes of leaves and outputs) into the
 * plan-cache key.
 * Marks on the nodes replace a visited set, so the walk allocates one array.
 */
import { type Node, mix, mix2 } from './node.js';

let epoch = 0;
// Reused across walks (a walk never re-enters itself); the node list is the only allocation.
const stack: Node[] = [];
const childIndex: number[] = [];

/** The nodes of a graph in post-order, and its plan-cache key. */
export interface GraphWalk {
  nodes: Node[];
  /** Two int32 lanes of the structural key (with `nodes.length`, the plan-cache key). */
  h1: number;
  h2: number;
}

/**
 * Walks from `outputs` down to leaves (and consts). The key hashes which node feeds
 * which (post-order numbering), the hashes of the nodes without inputs, and the outputs'
 * hashes: a node hash covers the expression tree beneath it as it was when the node was
 * built, and the numbering says which subtrees are one node, so together they fix the
 * graph without mixing in every node's hash again.
 */
export function walkGraph(outputs: readonly Node[]): GraphWalk {
  const mark = ++epoch;
  const nodes: Node[] = [];
  let h1 = mix(0x2545f491, outputs.length);
  let h2 = mix2(0x1b873593, outputs.length);
  for (let o = 0; o < outputs.length; o++) {
    let n = outputs[o];
    if (n.mark === mark) continue;
    n.mark = mark;
    n.consumers = 0;
    // Depth first with `n` and its next child `i` in locals; the stacks hold the
    // ancestors only, so a chain descends without re-reading them.
    let i = 0;
    for (;;) {
      const ins = n.inputs;
      if (i < ins.length) {
        const c = ins[i++];
        // A node read twice by one consumer (x * x) is computed once there.
        if (i > 1 && ins.indexOf(c) < i - 1) continue;
        if (c.mark !== mark) {
          c.mark = mark;
          c.consumers = 1;
          stack.push(n);
          childIndex.push(i);
          n = c;
          i = 0;
        } else {
          c.consumers++;
        }
        continue;
      }
      n.localId = nodes.length;
      nodes.push(n);
      // The node's arity and its inputs' numbers, all known now (post-order): one word
      // holds the arity (low 5 bits, 31 meaning "follows") and the first input's number
      // (below 2^26: more nodes than memory holds).
      // Nodes without inputs add their own hash: a leaf made by an eval after its
      // consumers were sealed is newer than the hashes above it.
      const a = ins.length;
      if (a === 0) {
        h1 = mix(mix(h1, 0), n.h1);
        h2 = mix2(mix2(h2, 0), n.h2);
      } else {
        const w = (ins[0].localId << 5) | (a < 31 ? a : 31);
        h1 = mix(h1, w);
        h2 = mix2(h2, w);
        if (a >= 31) {
          h1 = mix(h1, a);
          h2 = mix2(h2, a);
        }
        for (let k = 1; k < a; k++) {
          h1 = mix(h1, ins[k].localId);
          h2 = mix2(h2, ins[k].localId);
        }
      }
      if (stack.length === 0) break;
      n = stack.pop() as Node;
      i = childIndex.pop() as number;
    }
  }
  for (let o = 0; o < outputs.length; o++) {
    const out = outputs[o];
    h1 = mix(mix(h1, out.localId), out.h1);
    h2 = mix2(mix2(h2, out.localId), out.h2);
  }
  return { nodes, h1, h2 };
}
