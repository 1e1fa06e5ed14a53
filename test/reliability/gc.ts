/**
 * A full garbage collection from inside a test. Arrays that user code can no longer
 * reach (intermediate results never disposed) are freed inside the GC by their buffers'
 * native finalizers (docs/memory.md); zero-copy views may drop their pin a tick later,
 * hence the turns of the event loop. Memory checks run after it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Runs a full GC, then turns the event loop so finalization callbacks run. */
export async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
}
