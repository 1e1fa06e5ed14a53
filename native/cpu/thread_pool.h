// Persistent worker threads for fork-join execution of CPU kernels.
//
// The pool has threadCount() - 1 workers; the thread that submits work runs one chunk
// itself. Each worker has its own wake-up word, so a command split in two chunks wakes
// one worker, not all of them. Workers spin briefly after a job (plans are sequences
// of commands, and the next one usually follows within microseconds) and then sleep on
// a condition variable; the submitter does the same while waiting for completion.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "kernel_registry.h"

namespace ma {

class ThreadPool {
 public:
  static constexpr int kMaxThreads = 256;

  // Never destroyed: workers block forever once the process is done with them, and
  // must not see their pool's memory freed by static destructors at exit.
  static ThreadPool& Instance();

  // Threads that share a command: the calling thread plus the workers. Defaults to the
  // CPUs this process may run on; METALARRAY_NUM_THREADS (an integer in
  // [1, kMaxThreads]) overrides it. Read once, when the pool is first used.
  int threadCount() const { return threadCount_; }

  // Calls fn over [0, n) split into `chunks` contiguous, nearly equal ranges: the
  // first on the calling thread, each other one on a worker; returns when every chunk
  // is done. Workers are started on the first call; if the system refuses threads,
  // fewer chunks are used. One caller at a time: plans serialize on PlanExecutor's
  // mutex before they get here.
  void Run(KernelFn fn, void* const* bufs, const std::int64_t* args, std::int64_t n, int chunks);

 private:
  // One cache line each, so spinning on one worker's word does not slow the others.
  struct alignas(64) Worker {
    std::atomic<std::uint32_t> jobSeq{0};  // bumped by the submitter to hand out a chunk
    std::atomic<bool> sleeping{false};
    std::int64_t start = 0;  // the chunk; written before jobSeq is bumped
    std::int64_t end = 0;
    std::mutex mu;
    std::condition_variable cv;
  };

  ThreadPool();
  void StartWorkers();
  void WorkerLoop(Worker& worker);
  void WaitForJob(Worker& worker, std::uint32_t seen);
  void WaitForWorkers();
  void NotifySubmitter();

  const int threadCount_;
  std::unique_ptr<Worker[]> workers_;
  int started_ = 0;  // workers running; only the submitter touches it
  bool startAttempted_ = false;

  // The current job, written by the submitter before it bumps any jobSeq.
  KernelFn fn_ = nullptr;
  void* const* bufs_ = nullptr;
  const std::int64_t* args_ = nullptr;

  alignas(64) std::atomic<int> pending_{0};  // worker chunks not finished yet
  std::atomic<bool> submitterSleeping_{false};
  std::mutex doneMu_;
  std::condition_variable doneCv_;
};

}  // namespace ma
