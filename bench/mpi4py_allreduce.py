# The peer of bench/distributed_allsum.ts: MPI_Allreduce (sum) of float32 buffers with
# mpi4py, the same sizes and loop (warm-up, barrier, a fixed number of calls). Run under `mpirun -np 2 python3 bench/mpi4py_allreduce.py` (Debian: python3-mpi4py).
import json
import os
import time

import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
sizes = [int(s) for s in os.environ.get("SIZES", "4096,65536,1048576,16777216,67108864").split(",")]
for nbytes in sizes:
    x = np.full(nbytes // 4, rank + 1, dtype=np.float32)
    for _ in range(3):
        out = np.empty_like(x)  # a fresh result per call, as allSum returns a new array
        comm.Allreduce(x, out, op=MPI.SUM)
    comm.Barrier()
    iters = min(200, max(5, (256 << 20) // nbytes))
    start = time.perf_counter()
    for _ in range(iters):
        out = np.empty_like(x)  # a fresh result per call, as allSum returns a new array
        comm.Allreduce(x, out, op=MPI.SUM)
    elapsed = time.perf_counter() - start
    seconds = elapsed / iters
    algbw = nbytes / seconds / 1e9
    if rank == 0:
        print(json.dumps({"impl": "mpi4py", "ranks": size, "bytes": nbytes, "iters": iters, "usPerCall": round(seconds * 1e6, 1),
                          "algbwGBs": round(algbw, 3), "busbwGBs": round(algbw * 2 * (size - 1) / size, 3)}))
