/**
 * Backend selection: `metal` where available, else `cuda`, else `cpu`;
 * METALARRAY_BACKEND or setBackend() override, and forcing an absent backend throws
 * BackendUnavailableError saying why.
 */
import { BackendUnavailableError, formatValue } from '../errors.js';
import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/backend.js';
import { CudaBackend, CudaRenderer, cudaUnavailableReason } from './cuda/backend.js';
import { MetalBackend, MetalRenderer, metalAddon } from './metal/backend.js';
import { loadNative, nativeLoadError } from './native.js';

/** Names of every backend the library knows. */
export type BackendName = 'cpu' | 'metal' | 'cuda';
export const BACKEND_NAMES: readonly BackendName[] = ['metal', 'cuda', 'cpu'];

const instances = new Map<BackendName, Backend>();

/** Why a backend can't run here, or '' if it can. */
export function unavailableReason(name: string): string {
  switch (name) {
    case 'cpu': {
      // No compiler is fine: a warm kernel cache runs without one, and a miss then throws
      // BackendUnavailableError naming the kernel (src/runtime/cpu/compiler.ts).
      if (!loadNative()) return `the native addon failed to load: ${nativeLoadError()?.message}`;
      return '';
    }
    case 'metal':
      return metalUnavailableReason();
    case 'cuda':
      return cudaUnavailableReason(loadNative(), nativeLoadError()?.message ?? '');
    default:
      return `unknown backend ${formatValue(name)}; known backends are ${BACKEND_NAMES.join(', ')}`;
  }
}

let metalProbe: string | undefined;

/** Why Metal can't run here: not macOS on Apple silicon, an addon without Metal, or no device. */
function metalUnavailableReason(): string {
  if (process.platform !== 'darwin' || process.arch !== 'arm64') {
    return `Metal needs macOS on Apple silicon; this is ${process.platform}/${process.arch}`;
  }
  const native = loadNative();
  if (!native) return `the native addon failed to load: ${nativeLoadError()?.message}`;
  const metal = metalAddon(native);
  if (!metal) return 'the native addon was built without the Metal runtime (native/metal is built on macOS only)';
  if (metalProbe === undefined) {
    try {
      metal.metalDeviceInfo();
      metalProbe = '';
    } catch (err) {
      metalProbe = `no usable Metal device: ${(err as Error).message}`;
    }
  }
  return metalProbe;
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
    case 'cuda':
      b = new CudaBackend(loadNative() as NonNullable<ReturnType<typeof loadNative>>);
      break;
    case 'metal':
      b = new MetalBackend(metalAddon(loadNative()));
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

/**
 * A backend for planning only (explain, kernelSources): the real one where it can run,
 * else, for GPU backends, one that renders and names kernels but never compiles or runs.
 */
export function plannerFor(name: string): Backend {
  if (name === 'cuda' && !isAvailable('cuda')) return new PlanOnlyBackend(new CudaRenderer());
  if (name === 'metal' && !isAvailable('metal')) return new PlanOnlyBackend(new MetalRenderer());
  return backendFor(name);
}

/**
 * Renders kernels of a backend that cannot run here; everything that would run throws why
 * (`reason`, by default why the backend is unavailable).
 */
export class PlanOnlyBackend implements Backend {
  readonly name: string;
  readonly launchWords: Backend['launchWords'];
  readonly maxKernelOps: number | undefined;
  constructor(
    private readonly renderer: Pick<Backend, 'name' | 'render' | 'kernelName' | 'launchWords' | 'maxKernelOps'>,
    private readonly reason?: string,
  ) {
    this.name = renderer.name;
    this.launchWords = renderer.launchWords?.bind(renderer);
    this.maxKernelOps = renderer.maxKernelOps;
  }
  render(ir: Parameters<Backend['render']>[0], name: string): string {
    return this.renderer.render(ir, name);
  }
  kernelName(body: string): string {
    return this.renderer.kernelName(body);
  }
  private why(): BackendUnavailableError {
    return new BackendUnavailableError(this.reason ?? `backend ${JSON.stringify(this.name)} is unavailable: ${unavailableReason(this.name)}`);
  }
  private unavailable(): never {
    throw this.why();
  }
  kernels(): number[] {
    return this.unavailable();
  }
  alloc(): never {
    return this.unavailable();
  }
  write(): void {
    this.unavailable();
  }
  read(): void {
    this.unavailable();
  }
  run(): void {
    this.unavailable();
  }
  runAsync(): Promise<void> {
    return Promise.reject(this.why());
  }
  memory(): never {
    return this.unavailable();
  }
  clearCache(): void {
    this.unavailable();
  }
  setCacheLimit(): void {
    this.unavailable();
  }
  setMemoryLimit(): void {
    this.unavailable();
  }
  deviceInfo(): never {
    return this.unavailable();
  }
}
