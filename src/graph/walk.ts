/**
 * One walk over the unevaluated part of a graph per eval: collects the nodes in
 * post-order (inputs first), numbers them, counts consumers, and hashes the graph's
 * structure (node hashes plus which node feeds which) into the plan-cache key.
 * Marks on the nodes replace a visited set, so the walk allocates one array.
 */
import { Hasher, type Node } from './node.js';

let epoch = 0;
const keyHasher = new Hasher();

/** The nodes of a graph in post-order, and its plan-cache key. */
export interface GraphWalk {
  nodes: Node[];
  key: string;
}

/** Walks from `outputs` down to leaves (and consts). */
export function walkGraph(outputs: readonly Node[]): GraphWalk {
  const mark = ++epoch;
  const nodes: Node[] = [];
  const stack: Node[] = [];
  const childIndex: number[] = [];
  for (const out of outputs) {
    if (out.mark === mark) continue;
    out.mark = mark;
    out.consumers = 0;
    stack.push(out);
    childIndex.push(0);
    while (stack.length > 0) {
      const top = stack.length - 1;
      const n = stack[top];
      const i = childIndex[top];
      if (i < n.inputs.length) {
        childIndex[top] = i + 1;
        const c = n.inputs[i];
        // A node read twice by one consumer (x * x) is computed once there.
        if (n.inputs.indexOf(c) < i) continue;
        if (c.mark !== mark) {
          c.mark = mark;
          c.consumers = 1;
          stack.push(c);
          childIndex.push(0);
        } else {
          c.consumers++;
        }
      } else {
        stack.pop();
        childIndex.pop();
        n.localId = nodes.length;
        nodes.push(n);
      }
    }
  }
  const h = keyHasher.reset(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i];
    h.add(n.h1).add(n.h2);
    const ins = n.inputs;
    for (let k = 0; k < ins.length; k++) h.add(ins[k].localId);
  }
  for (const out of outputs) h.add(out.localId);
  return { nodes, key: `${h.h1}:${h.h2}:${nodes.length}` };
}
