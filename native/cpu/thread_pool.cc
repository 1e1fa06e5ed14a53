#include "thread_pool.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <new>
#include <cstdlib>
#include <system_error>
#include <thread>

namespace ma {
namespace {

// How long a thread spins before it sleeps. Waking a sleeping thread costs a syscall
// on both sides (several microseconds); spinning this long after a job covers the gap
// between the commands of a plan without burning a core for long when idle.
constexpr std::chrono::microseconds kSpinBudget{50};

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// Spins until done() or the budget runs out; returns done()'s last value.
template <typename Done>
bool SpinUntil(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinBudget;
  for (;;) {
    for (int i = 0; i < 64; ++i) {  // read the clock only now and then
      if (done()) return true;
      CpuRelax();
    }
    if (std::chrono::steady_clock::now() >= deadline) return done();
  }
}

int AvailableCpus() {
#if defined(__linux__)
  // The affinity mask, not the machine's CPU count: taskset/cpusets (containers) may
  // restrict us to fewer CPUs than hardware_concurrency() reports.
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
#endif
  const unsigned hc = std::thread::hardware_concurrency();  // 0 when unknown
  return hc == 0 ? 1 : static_cast<int>(std::min<unsigned>(hc, ThreadPool::kMaxThreads));
}

int ConfiguredThreadCount() {
  // getenv is only called here, once, from the first thread to use the pool.
  if (const char* text = std::getenv("METALARRAY_NUM_THREADS")) {
    char* end = nullptr;
    errno = 0;
    const long value = std::strtol(text, &end, 10);
    // An invalid value is ignored rather than fatal: the default is always usable.
    if (errno == 0 && end != text && *end == '\0' && value >= 1 && value <= ThreadPool::kMaxThreads) {
      return static_cast<int>(value);
    }
  }
  return std::clamp(AvailableCpus(), 1, ThreadPool::kMaxThreads);
}

// Blocks asynchronous signals for the threads created while it lives, so signals meant
// for the process (SIGINT, SIGTERM, SIGCHLD...) are delivered to Node's own threads,
// not to a worker in the middle of a kernel.
class BlockSignalsForNewThreads {
 public:
  BlockSignalsForNewThreads() {
    sigset_t all;
    sigfillset(&all);
    // On failure the workers just inherit the current mask, which is still correct.
    active_ = pthread_sigmask(SIG_SETMASK, &all, &saved_) == 0;
  }
  ~BlockSignalsForNewThreads() {
    if (active_) pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
  }
  BlockSignalsForNewThreads(const BlockSignalsForNewThreads&) = delete;
  BlockSignalsForNewThreads& operator=(const BlockSignalsForNewThreads&) = delete;

 private:
  sigset_t saved_;
  bool active_ = false;
};

}  // namespace

ThreadPool& ThreadPool::Instance() {
  static ThreadPool* const pool = new ThreadPool();  // intentionally never destroyed
  return *pool;
}

ThreadPool::ThreadPool() : threadCount_(ConfiguredThreadCount()) {}

void ThreadPool::StartWorkers() {
  startAttempted_ = true;  // once: running workers hold references into workers_
  const int wanted = threadCount_ - 1;
  if (wanted <= 0) return;
  workers_.reset(new (std::nothrow) Worker[static_cast<std::size_t>(wanted)]);
  if (!workers_) return;  // no memory for workers: every command runs inline
  BlockSignalsForNewThreads blocked;
  for (int i = 0; i < wanted; ++i) {
    try {
      Worker& worker = workers_[static_cast<std::size_t>(i)];
      // Detached: workers live for the process; nothing ever joins them.
      std::thread([this, &worker] { WorkerLoop(worker); }).detach();
      ++started_;
    } catch (const std::system_error&) {
      break;  // out of threads (EAGAIN): run with the workers we have
    }
  }
}

void ThreadPool::WorkerLoop(Worker& worker) {
  std::uint32_t seen = 0;
  for (;;) {
    WaitForJob(worker, seen);
    seen = worker.jobSeq.load(std::memory_order_acquire);
    fn_(bufs_, args_, worker.start, worker.end);
    // Publishes this chunk's writes to the submitter, which acquires pending_; seq_cst
    // also orders it before the submitterSleeping_ check (see WaitForWorkers).
    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1) NotifySubmitter();
  }
}

void ThreadPool::WaitForJob(Worker& worker, std::uint32_t seen) {
  if (SpinUntil([&] { return worker.jobSeq.load(std::memory_order_acquire) != seen; })) return;
  std::unique_lock<std::mutex> lock(worker.mu);
  // Announce the sleep before the last check; Run bumps jobSeq before it reads
  // `sleeping` (both seq_cst), so either we see the new job or Run sees us asleep.
  worker.sleeping.store(true, std::memory_order_seq_cst);
  while (worker.jobSeq.load(std::memory_order_seq_cst) == seen) worker.cv.wait(lock);
  worker.sleeping.store(false, std::memory_order_relaxed);
}

void ThreadPool::NotifySubmitter() {
  if (!submitterSleeping_.load(std::memory_order_seq_cst)) return;
  { std::lock_guard<std::mutex> lock(doneMu_); }  // the submitter is inside wait() now
  doneCv_.notify_one();
}

void ThreadPool::WaitForWorkers() {
  if (SpinUntil([&] { return pending_.load(std::memory_order_acquire) == 0; })) return;
  std::unique_lock<std::mutex> lock(doneMu_);
  submitterSleeping_.store(true, std::memory_order_seq_cst);
  while (pending_.load(std::memory_order_seq_cst) != 0) doneCv_.wait(lock);
  submitterSleeping_.store(false, std::memory_order_relaxed);
}

void ThreadPool::Run(KernelFn fn, void* const* bufs, const std::int64_t* args, std::int64_t n,
                     int chunks) {
  if (!startAttempted_ && chunks > 1) StartWorkers();
  chunks = std::min(chunks, started_ + 1);
  if (chunks <= 1) {
    fn(bufs, args, 0, n);
    return;
  }
  fn_ = fn;
  bufs_ = bufs;
  args_ = args;
  pending_.store(chunks - 1, std::memory_order_relaxed);  // published by the jobSeq bumps
  const std::int64_t base = n / chunks;
  const std::int64_t extra = n % chunks;  // the first `extra` chunks get one more item
  const auto bound = [&](int k) { return k * base + std::min<std::int64_t>(k, extra); };
  for (int k = 1; k < chunks; ++k) {
    Worker& worker = workers_[static_cast<std::size_t>(k - 1)];
    worker.start = bound(k);
    worker.end = bound(k + 1);
    worker.jobSeq.fetch_add(1, std::memory_order_seq_cst);
    if (worker.sleeping.load(std::memory_order_seq_cst)) {
      { std::lock_guard<std::mutex> lock(worker.mu); }  // the worker is inside wait() now
      worker.cv.notify_one();
    }
  }
  fn(bufs, args, 0, bound(1));
  WaitForWorkers();
}

}  // namespace ma
