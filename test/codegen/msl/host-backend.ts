/**
 * A test backend that runs the generated MSL on the CPU: every kernel is rendered by
 * the Metal dialect exactly as the metal backend renders it, compiled as host C++
 * against the execution shim (shim/metal_stdlib: a real thread per GPU thread, real
 * barriers, SIMD shuffles through per-SIMD-group barriers), and launched with the launch
 * words the metal backend puts in its commands (MetalRenderer.launchWords, the GPU
 * launch contract of src/runtime/native.ts). It plugs into the real executor, so
 * planning, fusion, buffer binding and constants are those of a real run.
 *
 * Each plan's kernels become one executable; a launch writes the buffers and the args
 * to files, runs the executable, and reads the output buffer back into the pool. Every
 * executable is built with a sanitizer (ThreadSanitizer, or AddressSanitizer with
 * UBSan, each buffer an allocation of its exact size) and any report fails the launch.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gpuStrategy, orderedPassKernel } from '../../../src/codegen/gpu.js';
import type { GpuDialect } from '../../../src/codegen/gpu-dialect.js';
import type { KernelIR } from '../../../src/codegen/ir.js';
import { MSL_DIALECT, MSL_PRELUDE, mslDialect } from '../../../src/codegen/msl.js';
import type { BufferRef } from '../../../src/core/node.js';
import type { Backend, DeviceInfo, KernelSource, MemoryStats } from '../../../src/runtime/backend.js';
import { MetalRenderer } from '../../../src/runtime/metal/backend.js';
import { GPU_LAUNCH_WORDS, loadNative, type NativeAddon } from '../../../src/runtime/native.js';
import { backendFor } from '../../../src/runtime/registry.js';

/** Where the shim headers are. */
export const SHIM_DIR = resolve(import.meta.dirname, 'shim');

interface HostKernel {
  name: string;
  source: string;
  ir: KernelIR;
  exe: string;
  index: number;
}

/** Options of a host run. */
export interface HostOptions {
  clang: string;
  workDir: string;
  /** ThreadSanitizer (barrier races) or AddressSanitizer + UBSan (index math out of bounds, undefined behaviour). */
  sanitizer: 'thread' | 'address';
  /** Names the backend (plans are cached per backend name, so distinct setups need distinct names). */
  label: string;
  /** Rewrites each kernel's source before it is built (the race control removes barriers). */
  mutate?: (source: string) => string;
  /** Renders for a GPU without SIMD-group matrices (the scalar matmul kernel); default false. */
  noSimdgroupMatrix?: boolean;
  /** Leaves out a split reduction's fold dispatch (a control: the fold must matter). */
  skipFold?: boolean;
  /**
   * The scratch one batch of long sort lines shares (the dialect's
   * orderedPasses.sortScratchBytes), smaller than Metal's to make several batches of
   * small lines; the kernels and their launches both follow it.
   */
  sortScratchBytes?: number;
  /** Runs each dispatch's threadgroups last to first (no threadgroup may wait on an earlier one). */
  reverseGroups?: boolean;
  /** Leaves out the ordered pass of this index from every ordered-pass launch (a control: each pass must matter). */
  skipPass?: number;
}

/** The metal backend's renderer for a device with or without SIMD-group matrices, with a chosen sort scratch budget. */
class HostRenderer extends MetalRenderer {
  constructor(private readonly custom: GpuDialect) {
    super();
  }
  protected override get dialect(): GpuDialect {
    return this.custom;
  }
}

/** The C++ statement that calls kernel `name` of `ir` from the driver with buffers ptr[0..]. */
function driverCall(ir: KernelIR, name: string): string {
  const bufs = ir.buffers.map((d, i) => {
    const t = MSL_DIALECT.storageType[d] as string;
    return `(${i === 0 ? '' : 'const '}${t} *)ptr[${i}]`;
  });
  // An ordered-pass kernel declares the pass index after its args words.
  const words = Math.max(1, ir.argWords) + (orderedPassKernel(MSL_DIALECT, ir) ? 1 : 0);
  const scratch = `(uint8_t *)ptr[${ir.buffers.length}]`;
  return `${name}(${[...bufs, scratch, `*(const MaArgs<${words}> *)ptr[${ir.buffers.length + 1}]`, 't', 'g', 'bd', 'gd'].join(', ')})`;
}

/** The driver: main(kernelIndex, grid xyz, group xyz, dir, nBufs) runs one launch over files. */
function driver(kernels: readonly HostKernel[]): string {
  const cases = kernels.map(
    (k) => `    case ${k.index}:
      metal::dispatch_threadgroups(grid, group, [&](uint3 t, uint3 g, uint3 bd, uint3 gd) { ${driverCall(k.ir, k.name)}; });
      break;`,
  );
  return `
#include <cstdio>
#include <cstdlib>
#include <string>
static std::vector<size_t> sizes;
// Exactly the file's bytes (at least one), so AddressSanitizer sees a read or write past a buffer.
static std::vector<unsigned char> ma_load(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) { std::perror(path.c_str()); std::exit(3); }
  std::fseek(f, 0, SEEK_END);
  const long n = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  std::vector<unsigned char> words(n > 0 ? static_cast<size_t>(n) : 1);
  if (n > 0 && std::fread(words.data(), 1, static_cast<size_t>(n), f) != static_cast<size_t>(n)) std::exit(3);
  std::fclose(f);
  sizes.push_back(static_cast<size_t>(n));
  return words;
}
int main(int argc, char** argv) {
  if (argc != 11) return 2;
  const bool checkScratch = std::atoi(argv[10]) != 0;
  const int which = std::atoi(argv[1]);
  const uint3 grid = {(uint)std::atoi(argv[2]), (uint)std::atoi(argv[3]), (uint)std::atoi(argv[4])};
  const uint3 group = {(uint)std::atoi(argv[5]), (uint)std::atoi(argv[6]), (uint)std::atoi(argv[7])};
  const std::string dir = argv[8];
  const int nbufs = std::atoi(argv[9]);
  std::vector<std::vector<unsigned char>> store;
  std::vector<void*> ptr;
  for (int i = 0; i < nbufs; ++i) store.push_back(ma_load(dir + "/b" + std::to_string(i)));
  store.push_back(ma_load(dir + "/scratch"));
  store.push_back(ma_load(dir + "/args"));
  for (auto& s : store) ptr.push_back(s.data());
  switch (which) {
${cases.join('\n')}
    default:
      return 2;
  }
  // The launch contract: a kernel that uses the scratch buffer leaves it all zero (after
  // the last dispatch of a launch: a split reduction's first one leaves its partials).
  if (checkScratch) {
    for (size_t i = 0; i < sizes[nbufs]; ++i) {
      if (store[nbufs][i] != 0) { std::fprintf(stderr, "scratch byte %zu left nonzero\\n", i); return 5; }
    }
  }
  // The output, and the scratch (a split reduction's fold dispatch reads what the first wrote).
  const int back[2] = {0, nbufs};
  const char* names[2] = {"/b0", "/scratch"};
  for (int k = 0; k < 2; ++k) {
    FILE* out = std::fopen((dir + names[k]).c_str(), "wb");
    if (!out) return 3;
    const size_t n = sizes[back[k]];
    if (n > 0 && std::fwrite(store[back[k]].data(), 1, n, out) != n) return 3;
    std::fclose(out);
  }
  return 0;
}
`;
}

/** The compile flags of each sanitizer's executables (the precompiled prelude is built with the same). */
const SANITIZER_FLAGS = {
  thread: ['-O1', '-g', '-fsanitize=thread'],
  address: ['-O1', '-g', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'],
} as const;
const SHIM_FLAGS = ['-std=c++20', '-pthread', '-Wno-unknown-attributes', `-I${SHIM_DIR}`] as const;

/** Precompiled MSL preludes by compiler and flags: every executable starts with the same prelude text. */
const preludeHeaders = new Map<string, string>();
/** Where this process keeps them (not a suite's work dir, which a suite may remove). */
let preludeDir: string | undefined;

/**
 * The precompiled header of MSL_PRELUDE (shim included) for these flags, built once per
 * process: the prelude is about half of each small executable's build time, and the two
 * sanitizer suites build hundreds of them (CI time).
 */
function preludeHeader(clang: string, flags: readonly string[]): string {
  const key = [clang, ...flags].join(' ');
  const known = preludeHeaders.get(key);
  if (known) return known;
  const tag = createHash('sha256').update(key).update(MSL_PRELUDE).digest('hex').slice(0, 16);
  preludeDir ??= mkdtempSync(join(tmpdir(), 'metalarray-msl-prelude-'));
  const header = join(preludeDir, `prelude-${tag}.h`);
  writeFileSync(header, `${MSL_PRELUDE}\n`);
  const r = spawnSync(clang, [...flags, '-x', 'c++-header', header, '-o', `${header}.pch`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`host MSL prelude build failed (${header}):\n${r.stderr}`);
  preludeHeaders.set(key, `${header}.pch`);
  return `${header}.pch`;
}

/** Runs MSL kernels on the host through the execution shim; buffers live in the cpu pool. */
export class HostMslBackend implements Backend {
  readonly name: string;
  private readonly cpu: Backend;
  private readonly native: NativeAddon;
  private readonly irByBody = new Map<string, KernelIR>();
  private readonly irByName = new Map<string, KernelIR>();
  private readonly kernelsById: HostKernel[] = [];
  private readonly idByName = new Map<string, number>();
  /** Every launch made, for tests that check which kernel kinds ran. */
  readonly launches: { name: string; strategy: string; grid: number[]; group: number[]; source: string }[] = [];

  constructor(private readonly opts: HostOptions) {
    this.name = `metal-host-${opts.label}`;
    this.cpu = backendFor('cpu');
    this.native = loadNative() as NativeAddon;
    const dialect = mslDialect(!opts.noSimdgroupMatrix);
    this.renderer =
      opts.sortScratchBytes === undefined
        ? new HostRenderer(dialect)
        : new HostRenderer({ ...dialect, orderedPasses: { sortScratchBytes: opts.sortScratchBytes } });
    mkdirSync(opts.workDir, { recursive: true });
  }

  private readonly renderer: MetalRenderer;

  launchWords(ir: KernelIR, args: readonly number[]): number[] {
    return this.renderer.launchWords(ir, args);
  }

  render(ir: KernelIR, name: string): string {
    // The metal backend's own rendering (its dialect for the device), kept for the build.
    const body = this.renderer.render(ir, name);
    this.irByBody.set(body, ir);
    return body;
  }

  kernelName(body: string): string {
    const name = `k_${createHash('sha256').update(MSL_PRELUDE).update(body).digest('hex').slice(0, 24)}`;
    const ir = this.irByBody.get(body);
    if (ir) this.irByName.set(name, ir);
    return name;
  }

  kernels(sources: readonly KernelSource[]): number[] {
    const missing = sources.filter((k, i) => !this.idByName.has(k.name) && sources.findIndex((o) => o.name === k.name) === i);
    if (missing.length > 0) {
      const tag = createHash('sha256')
        .update(missing.map((k) => k.name).join(','))
        .digest('hex')
        .slice(0, 16);
      const exe = join(this.opts.workDir, `${this.name}-${tag}`);
      const hostKernels = missing.map((k, index) => ({ name: k.name, source: k.source, ir: this.irByName.get(k.name) as KernelIR, exe, index }));
      // The prelude comes from the precompiled header (the same text, parsed once per process).
      const text = `${missing.map((k) => (this.opts.mutate ? this.opts.mutate(k.source) : k.source)).join('\n\n')}\n${driver(hostKernels)}`;
      const cpp = `${exe}.cpp`;
      writeFileSync(cpp, text);
      const common = [...SANITIZER_FLAGS[this.opts.sanitizer], ...SHIM_FLAGS];
      const pch = preludeHeader(this.opts.clang, common);
      const r = spawnSync(this.opts.clang, [...common, '-include-pch', pch, '-x', 'c++', cpp, '-o', exe], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`host MSL build failed (${cpp}):\n${r.stderr}`);
      for (const k of hostKernels) {
        this.idByName.set(k.name, this.kernelsById.length);
        this.kernelsById.push(k);
      }
    }
    return sources.map((k) => this.idByName.get(k.name) as number);
  }

  alloc(nbytes: number): BufferRef {
    return this.cpu.alloc(nbytes);
  }
  write(buffer: BufferRef, byteOffset: number, src: ArrayBufferView): void {
    this.cpu.write(buffer, byteOffset, src);
  }
  read(buffer: BufferRef, byteOffset: number, dst: ArrayBufferView): void {
    this.cpu.read(buffer, byteOffset, dst);
  }

  run(commands: Int32Array, args: BigInt64Array): void {
    // The GPU command layout: [kernelId, argOffset, nBufs, bufIds..., grid xyz, group xyz, sharedBytes, argBytes, scratchBytes].
    for (let pos = 0; pos < commands.length; ) {
      const kernel = this.kernelsById[commands[pos]];
      const wordOffset = commands[pos + 1] / 8;
      const nBufs = commands[pos + 2];
      const ids = Array.from(commands.subarray(pos + 3, pos + 3 + nBufs));
      const geometry = Array.from(commands.subarray(pos + 3 + nBufs, pos + 3 + nBufs + GPU_LAUNCH_WORDS));
      pos += 3 + nBufs + GPU_LAUNCH_WORDS;
      const launch = { grid: geometry.slice(0, 3), block: geometry.slice(3, 6), sharedBytes: geometry[6] };
      if (launch.sharedBytes !== 0) throw new Error('host MSL: dynamic threadgroup memory is not used by the walker');
      const words = args.subarray(wordOffset, wordOffset + Math.max(1, geometry[7] / 8));
      this.launches.push({ name: kernel.name, strategy: gpuStrategy(kernel.ir), grid: [...launch.grid], group: [...launch.block], source: kernel.source });
      if (launch.grid.some((g) => g === 0)) continue;
      // The Metal runtime's rules (native/metal/metal_runtime.h): a split reduction (scratch
      // bytes, more than one threadgroup along y) is followed by its fold dispatch; an
      // ordered-pass kernel (scratch bytes, grid y 1, grid z P > 1) is dispatched P times
      // over grid (x, 1, 1), the pass index after the args.
      const dispatches: { grid: number[]; pass?: number }[] = [{ grid: launch.grid }];
      if (geometry[8] > 0 && launch.grid[1] > 1 && !this.opts.skipFold) {
        const fold = [launch.grid[0], 1, 2];
        dispatches.push({ grid: fold });
        this.launches.push({ name: kernel.name, strategy: 'element fold', grid: fold, group: [...launch.block], source: kernel.source });
      }
      if (geometry[8] > 0 && launch.grid[1] === 1 && launch.grid[2] > 1) {
        dispatches.length = 0;
        for (let p = 0; p < launch.grid[2]; p++) if (p !== this.opts.skipPass) dispatches.push({ grid: [launch.grid[0], 1, 1], pass: p });
      }
      const dir = join(this.opts.workDir, `run-${this.launches.length}`);
      mkdirSync(dir, { recursive: true });
      ids.forEach((id, i) => {
        const bytes = new Uint8Array(this.native.byteLength(id));
        this.native.read(id, 0, bytes);
        writeFileSync(join(dir, `b${i}`), bytes);
      });
      // The contract's scratch buffer: zeroed, at least scratchBytes long.
      writeFileSync(join(dir, 'scratch'), new Uint8Array(Math.max(16, geometry[8])));
      for (const [k, { grid, pass }] of dispatches.entries()) {
        // The args block as the runtime binds it (at least one word), then the pass index (0 outside ordered passes).
        const block = BigInt64Array.from([...(geometry[7] === 0 ? [0n] : words), BigInt(pass ?? 0)]);
        writeFileSync(join(dir, 'args'), new Uint8Array(block.buffer, block.byteOffset, block.byteLength));
        const last = k === dispatches.length - 1 && !this.opts.skipFold && this.opts.skipPass === undefined;
        const argv = [String(kernel.index), ...grid.map(String), ...launch.block.map(String), dir, String(nBufs), last ? '1' : '0'];
        const r = spawnSync(kernel.exe, argv, {
          encoding: 'utf8',
          env: {
            ...process.env,
            MA_SHIM_REVERSE_GROUPS: this.opts.reverseGroups ? '1' : '0',
            TSAN_OPTIONS: 'halt_on_error=1 exitcode=66 second_deadlock_stack=1',
            ASAN_OPTIONS: 'detect_leaks=0 exitcode=67',
            UBSAN_OPTIONS: 'print_stacktrace=1 halt_on_error=1',
          },
          timeout: 120_000,
        });
        if (r.status !== 0 || /Sanitizer|runtime error:/.test(r.stderr ?? '')) {
          throw new Error(
            `host MSL launch of ${kernel.name} (${kernel.ir.kind}, grid ${grid}, group ${launch.block}) failed with status ${r.status}:\n${r.stderr}`,
          );
        }
      }
      this.native.write(ids[0], 0, new Uint8Array(readFileSync(join(dir, 'b0'))).subarray(0, this.native.byteLength(ids[0])));
    }
  }

  async runAsync(commands: Int32Array, args: BigInt64Array): Promise<void> {
    this.run(commands, args);
  }
  memory(): MemoryStats {
    return this.cpu.memory();
  }
  clearCache(): void {
    this.cpu.clearCache();
  }
  setCacheLimit(bytes: number): void {
    this.cpu.setCacheLimit(bytes);
  }
  setMemoryLimit(bytes: number): void {
    this.cpu.setMemoryLimit(bytes);
  }
  deviceInfo(): DeviceInfo {
    return { ...(this.cpu.deviceInfo as () => DeviceInfo).call(this.cpu), backend: this.name, name: 'MSL execution shim on the host CPU' };
  }
}
