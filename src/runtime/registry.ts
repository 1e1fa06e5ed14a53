/**
 * Backend selection: `metal` where available, else `cuda`, else `cpu`;
 * METALARRAY_BACKEND or setBackend() override, and forcing an absent backend throws
 * BackendUnavailableError saying why.
 */
import { BackendUnavailableError, formatValue } from '../errors.js';
import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/backend.js';
import { compilerError } from './cpu/compiler.js';
import { loadNative, nativeLoadError } from './native.js';

/** Names of every backend the library knows. */
export type BackendName = 'cpu' | 'metal' | 'cuda';
export const BACKEND_NAMES: readonly BackendName[] = ['metal', 'cuda', 'cpu'];

const instances = new Map<BackendName, Backend>();

/** Why a backend can't run here, or '' if it can. */
export function unavailableReason(name: string): string {
  switch (name) {
    case 'cpu': {
      if (!loadNative()) return `the native addon failed to load: ${nativeLoadError()?.message}`;
      const cc = compilerError();
      return cc ? `the cpu backend compiles kernels with the system C compiler, and there is ${cc}` : '';
    }
    case 'metal':
      return process.platform !== 'darwin'
        ? `Metal needs macOS on Apple silicon; this is ${process.platform}/${process.arch}`
        : 'the Metal runtime is not built into this version yet';
    case 'cuda':
      return 'the CUDA runtime is not built into this version yet';
    default:
      return `unknown backend ${formatValue(name)}; known backends are ${BACKEND_NAMES.join(', ')}`;
  }
}

/** True if the backend can run here. */
export function isAvailable(name: string): boolean {
  return unavailableReason(name) === '';
}

/** The backend instance for a name (throws BackendUnavailableError). */
export function backendFor(name: string): Backend {
  const existing = instances.get(name as BackendName);
  if (existing) return existing;
  const why = unavailableReason(name);
  if (why) throw new BackendUnavailableError(`backend ${formatValue(name)} is unavailable: ${why}`);
  let b: Backend;
  switch (name as BackendName) {
    case 'cpu':
      b = new CpuBackend(loadNative() as NonNullable<ReturnType<typeof loadNative>>);
      break;
    default:
      throw new BackendUnavailableError(`backend ${formatValue(name)} is unavailable`);
  }
  instances.set(name as BackendName, b);
  return b;
}

let current: BackendName | undefined;

/** The default backend for new arrays. */
export function getBackendName(): BackendName {
  if (current) return current;
  const forced = process.env.METALARRAY_BACKEND;
  if (forced) {
    backendFor(forced);
    current = forced as BackendName;
    return current;
  }
  for (const name of BACKEND_NAMES) {
    if (isAvailable(name)) {
      current = name;
      return name;
    }
  }
  throw new BackendUnavailableError(`no backend can run here: ${BACKEND_NAMES.map((n) => `${n}: ${unavailableReason(n)}`).join('; ')}`);
}

/** Makes `name` the default backend (throws BackendUnavailableError if it can't run). */
export function setBackendName(name: string): void {
  backendFor(name);
  current = name as BackendName;
}
