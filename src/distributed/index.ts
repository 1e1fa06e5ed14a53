/**
 * `ma.distributed`: collectives across processes and machines over Open MPI (host
 * buffers) and NCCL (NVIDIA GPUs). See docs/distributed.md.
 */
export { init, Group, type InitOptions, type DistributedBackend } from './group.js';
export { allSum, allMax, allMin, allGather, reduceScatter, broadcast, send, recv, recvLike, barrier } from './collectives.js';
export { averageGradients, type AverageGradientsOptions } from './average-gradients.js';
export { DistributedError, CollectiveTimeoutError, CollectiveMismatchError } from '../errors.js';
