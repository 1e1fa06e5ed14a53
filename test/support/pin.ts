/**
 * Whether a cpu-only test pinned the cpu backend (see pinCpuBackend in backend.ts). Its
 * own module so the Metal render simulation (simulate-metal-render.ts) can read it
 * without importing the probes of backend.ts before it patches the cpu backend.
 */
export const cpuPin = { pinned: false };
