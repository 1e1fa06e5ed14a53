#!/usr/bin/env node
// metalarray-launch: starts the processes of a ma.distributed job on this host.
//
//   npx metalarray-launch -n 2 script.js [args...]                 (NCCL: one GPU each)
//   npx metalarray-launch -n 2 --backend mpi script.js [args...]   (runs mpirun -np 2)
//
// NCCL: each process gets METALARRAY_RANK, METALARRAY_LOCAL_RANK, METALARRAY_WORLD_SIZE,
// CUDA_VISIBLE_DEVICES (one GPU of --gpus, default 0..n-1) and METALARRAY_RENDEZVOUS_FILE
// (rank 0 writes the NCCL unique id there, the others read it). Several hosts: run it
// on each with --nnodes, --node-rank and a --rendezvous-file on a shared filesystem.
// MPI: the job is `mpirun -np n node script.js` (a hostfile goes through --mpi-args).
// Signals (SIGINT, SIGTERM) are forwarded; when one process fails the others are
// stopped and the launcher exits with the failed process's code.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const USAGE = `usage: metalarray-launch [-n N] [--backend nccl|mpi] [--gpus 0,1,...] [--nnodes K --node-rank R --rendezvous-file PATH]
                         [--mpi-args "..."] script.js [args...]`;

function fail(message) {
  process.stderr.write(`metalarray-launch: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parse(argv) {
  const opts = { n: 1, backend: 'nccl', gpus: null, nnodes: 1, nodeRank: 0, rendezvousFile: null, mpiArgs: [], script: null, args: [] };
  let i = 0;
  const value = (flag) => {
    if (i + 1 >= argv.length) fail(`${flag} needs a value`);
    return argv[++i];
  };
  const count = (flag, text, min) => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < min) fail(`${flag} must be an integer >= ${min}, got ${text}`);
    return v;
  };
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-n' || a === '--nproc') opts.n = count(a, value(a), 1);
    else if (a === '--backend') {
      opts.backend = value(a);
      if (opts.backend !== 'nccl' && opts.backend !== 'mpi') fail(`--backend must be nccl or mpi, got ${opts.backend}`);
    } else if (a === '--gpus') opts.gpus = value(a).split(',').filter((g) => g !== '');
    else if (a === '--nnodes') opts.nnodes = count(a, value(a), 1);
    else if (a === '--node-rank') opts.nodeRank = count(a, value(a), 0);
    else if (a === '--rendezvous-file') opts.rendezvousFile = value(a);
    else if (a === '--mpi-args') opts.mpiArgs = value(a).split(' ').filter((s) => s !== '');
    else if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (a.startsWith('-')) fail(`unknown option ${a}`);
    else {
      opts.script = a;
      opts.args = argv.slice(i + 1);
      break;
    }
  }
  if (opts.script === null) fail('no script given');
  if (opts.nodeRank >= opts.nnodes) fail(`--node-rank ${opts.nodeRank} must be below --nnodes ${opts.nnodes}`);
  if (opts.nnodes > 1 && opts.rendezvousFile === null) fail('several nodes need --rendezvous-file on a filesystem every node shares');
  if (opts.gpus !== null && opts.gpus.length < opts.n) fail(`--gpus names ${opts.gpus.length} GPU(s) for ${opts.n} processes`);
  return opts;
}

const opts = parse(process.argv.slice(2));
const children = [];
let exitCode = null;
let scratch = null;

function stopAll(signal) {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    exitCode ??= 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal] ?? 0);
    stopAll(signal);
  });
}

function watch(child, label) {
  children.push(child);
  child.on('error', (err) => {
    process.stderr.write(`metalarray-launch: ${label} could not start: ${err.message}\n`);
    exitCode ??= 127;
    stopAll('SIGTERM');
  });
  child.on('exit', (code, signal) => {
    const failed = code !== 0;
    if (failed && exitCode === null) {
      exitCode = code ?? 128 + 15;
      process.stderr.write(`metalarray-launch: ${label} ${code !== null ? `exited with code ${code}` : `was killed by ${signal}`}; stopping the others\n`);
      stopAll('SIGTERM');
    }
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) {
      if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
      process.exit(exitCode ?? 0);
    }
  });
}

if (opts.backend === 'mpi') {
  const args = ['-np', String(opts.n), ...opts.mpiArgs, process.execPath, opts.script, ...opts.args];
  watch(spawn('mpirun', args, { stdio: 'inherit' }), 'mpirun');
} else {
  if (opts.rendezvousFile === null) {
    scratch = mkdtempSync(join(tmpdir(), 'metalarray-launch-'));
    opts.rendezvousFile = join(scratch, 'nccl-id');
  }
  const world = opts.n * opts.nnodes;
  for (let local = 0; local < opts.n; local++) {
    const rank = opts.nodeRank * opts.n + local;
    const env = {
      ...process.env,
      METALARRAY_RANK: String(rank),
      METALARRAY_LOCAL_RANK: String(local),
      METALARRAY_WORLD_SIZE: String(world),
      METALARRAY_RENDEZVOUS_FILE: opts.rendezvousFile,
      CUDA_VISIBLE_DEVICES: opts.gpus !== null ? opts.gpus[local] : String(local),
      METALARRAY_BACKEND: process.env.METALARRAY_BACKEND ?? 'cuda',
    };
    watch(spawn(process.execPath, [opts.script, ...opts.args], { stdio: 'inherit', env }), `rank ${rank}`);
  }
}
