// Started by metalarray-launch (NCCL mode) in test/distributed/launch.test.ts: prints the
// rendezvous environment; rank FAIL_RANK exits with code 7, the others wait to be stopped.
const env = process.env;
console.log(
  JSON.stringify({
    rank: env.METALARRAY_RANK,
    local: env.METALARRAY_LOCAL_RANK,
    size: env.METALARRAY_WORLD_SIZE,
    gpu: env.CUDA_VISIBLE_DEVICES,
    file: env.METALARRAY_RENDEZVOUS_FILE,
  }),
);
if (env.METALARRAY_RANK === env.FAIL_RANK) {
  setTimeout(() => process.exit(7), 200);
} else if (env.FAIL_RANK !== undefined) {
  setTimeout(() => process.exit(0), 60_000); // stopped by the launcher long before
}
