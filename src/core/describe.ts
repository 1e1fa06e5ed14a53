/**
 * A plain-text listing of a walked graph, one node a line in post-order (inputs first),
 * for error reports: a generated kernel that fails to compile prints the graph behind it.
 */
import type { Node, ViewMap } from './node.js';

/** How many nodes a listing shows before it elides the middle. */
const MAX_LINES = 200;

function attributes(n: Node): string {
  switch (n.kind) {
    case 'leaf':
      return ` strides=[${(n.strides ?? []).join(',')}] offset=${n.offset}`;
    case 'const':
      return ` value=${String(n.value)}`;
    case 'view': {
      const v = n.view as ViewMap;
      return ` inDim=[${v.inDim.join(',')}] step=[${v.step.join(',')}] start=[${v.start.join(',')}]`;
    }
    case 'concat':
      return ` axis=${n.axis} bounds=[${(n.bounds ?? []).join(',')}]`;
    case 'reduce':
    case 'gather':
      return ` axes=[${(n.axes ?? []).join(',')}]`;
    case 'scan':
      return n.inclusive ? '' : ' exclusive';
    default:
      return n.scalarSide >= 0 ? ` scalar=${String(n.value)}` : '';
  }
}

/**
 * The nodes of a walk (`walkGraph(...).nodes`, numbered by `localId`) as text:
 * `%3 = reduce max float32[3] (%2) axes=[1]`.
 */
export function describeGraph(nodes: readonly Node[]): string {
  const line = (n: Node, i: number): string => {
    const op = n.op ? ` ${n.op}` : '';
    const ins = n.inputs.map((x) => (x.localId >= 0 && nodes[x.localId] === x ? `%${x.localId}` : '%?')).join(', ');
    return `%${i} = ${n.kind}${op} ${n.dtype}[${n.shape.join(',')}] (${ins})${attributes(n)}`;
  };
  if (nodes.length <= MAX_LINES) return nodes.map(line).join('\n');
  const head = nodes.slice(0, MAX_LINES / 2).map(line);
  const tail = nodes.slice(nodes.length - MAX_LINES / 2).map((n, k) => line(n, nodes.length - MAX_LINES / 2 + k));
  return [...head, `… ${nodes.length - MAX_LINES} nodes …`, ...tail].join('\n');
}
