#include "cuda_runtime.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "../common/errors.h"
#include "../common/size_classes.h"
#include "nvrtc_compile.h"

namespace ma::cuda {

namespace {
// Words a GPU command carries after its buffer ids (GPU_LAUNCH_WORDS in native.ts).
constexpr std::size_t kLaunchWords = 9;
constexpr unsigned kMaxBlockThreads = 1024;
// Shared memory a block may use without opting in, and the attribute that opts in
// (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES).
constexpr std::int32_t kStaticSharedBytes = 48 * 1024;
constexpr int kMaxDynamicSharedAttribute = 8;
// Args blobs larger than this travel as a pointer to a device copy (GPU_ARGS_INLINE_BYTES).
constexpr std::size_t kArgsInlineBytes = 4096;
}  // namespace

Plan::~Plan() {
  for (CUdeviceptr p : argCopies) Runtime::Instance().FreeRaw(p);
}

void Runtime::FreeRaw(CUdeviceptr ptr) noexcept {
  if (api_ != nullptr && ptr != 0) {
    try {
      MakeCurrent();
    } catch (...) {
      return;
    }
    api_->cuMemFree(ptr);
  }
}

Runtime& Runtime::Instance() {
  static Runtime* runtime = new Runtime();  // leaked on purpose: see the header
  return *runtime;
}

void Runtime::FailGpu(CUresult r, const std::string& what) {
  const ErrorCode code = r == kCudaErrorOutOfMemory ? ErrorCode::kOom : ErrorCode::kGpu;
  Fail(code, what + " failed: " + DescribeResult(*api_, r));
}

void Runtime::Check(CUresult r, const char* call) {
  if (r != kCudaSuccess) FailGpu(r, call);
}

std::string Runtime::Probe() {
  std::lock_guard<std::mutex> lock(initMu_);
  if (!initTried_) {
    initTried_ = true;
    try {
      InitLocked();
    } catch (const std::exception& e) {
      why_ = e.what();
    }
  }
  return why_;
}

void Runtime::InitLocked() {
  std::string why;
  api_ = LoadDriver(&why);
  if (api_ == nullptr) Fail(ErrorCode::kDlopen, why);
  const CUresult init = api_->cuInit(0);
  if (init != kCudaSuccess) Fail(ErrorCode::kGpu, "cuInit failed (no usable NVIDIA driver or device): " + DescribeResult(*api_, init));
  int count = 0;
  Check(api_->cuDeviceGetCount(&count), "cuDeviceGetCount");
  if (count < 1) Fail(ErrorCode::kGpu, "no CUDA device is present");
  CUdevice dev = 0;
  Check(api_->cuDeviceGet(&dev, 0), "cuDeviceGet");
  char name[256] = {};
  Check(api_->cuDeviceGetName(name, sizeof(name) - 1, dev), "cuDeviceGetName");
  info_.name = name;
  Check(api_->cuDeviceGetAttribute(&info_.major, kAttrComputeCapabilityMajor, dev), "cuDeviceGetAttribute");
  Check(api_->cuDeviceGetAttribute(&info_.minor, kAttrComputeCapabilityMinor, dev), "cuDeviceGetAttribute");
  Check(api_->cuDeviceGetAttribute(&info_.multiprocessors, kAttrMultiprocessorCount, dev), "cuDeviceGetAttribute");
  int vmaj = 0;
  int vmin = 0;
  if (api_->nvrtcVersion(&vmaj, &vmin) != kNvrtcSuccess) Fail(ErrorCode::kGpu, "nvrtcVersion failed");
  info_.nvrtc = std::to_string(vmaj) + "." + std::to_string(vmin);
  Check(api_->cuDevicePrimaryCtxRetain(&ctx_, dev), "cuDevicePrimaryCtxRetain");
  Check(api_->cuCtxSetCurrent(ctx_), "cuCtxSetCurrent");
  Check(api_->cuStreamCreate(&stream_, kStreamNonBlocking), "cuStreamCreate");
  Check(api_->cuMemAllocHost(&staging_, kStagingBytes), "cuMemAllocHost (pinned staging)");
}

const DeviceInfo& Runtime::Info() {
  const std::string why = Probe();
  if (!why.empty()) Fail(ErrorCode::kGpu, "CUDA is unavailable: " + why);
  return info_;
}

void Runtime::MakeCurrent() {
  thread_local bool current = false;  // the one context stays current once set
  if (current) return;
  const std::string why = Probe();
  if (!why.empty()) Fail(ErrorCode::kGpu, "CUDA is unavailable: " + why);
  Check(api_->cuCtxSetCurrent(ctx_), "cuCtxSetCurrent");
  current = true;
}

// ---- device memory pool ----

CUdeviceptr Runtime::TakeCached(std::uint64_t classBytes) {
  auto it = byClass_.find(classBytes);
  if (it == byClass_.end()) return 0;
  const CUdeviceptr ptr = it->second->ptr;
  lru_.erase(it->second);
  byClass_.erase(it);
  cachedBytes_ -= classBytes;
  return ptr;
}

void Runtime::EvictTo(std::uint64_t target) {
  while (cachedBytes_ > target && !lru_.empty()) {
    const Cached c = lru_.front();
    auto range = byClass_.equal_range(c.classBytes);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == lru_.begin()) {
        byClass_.erase(it);
        break;
      }
    }
    lru_.pop_front();
    cachedBytes_ -= c.classBytes;
    api_->cuMemFree(c.ptr);  // a failure here leaves nothing to undo
  }
}

Runtime::Block* Runtime::Find(std::int64_t id) {
  if (id <= 0 || id > UINT32_MAX) return nullptr;
  auto it = live_.find(static_cast<std::uint32_t>(id));
  return it == live_.end() ? nullptr : &it->second;
}

std::uint32_t Runtime::Alloc(std::uint64_t nbytes) {
  MakeCurrent();
  SizeClass cls{};
  // Blocks are at least 256 bytes, so every buffer is aligned for 16-byte vector access.
  if (!ClassifySize(std::max<std::uint64_t>(nbytes, 256), &cls)) {
    Fail(ErrorCode::kOom, "cannot allocate " + std::to_string(nbytes) + " bytes of device memory: larger than any device");
  }
  std::lock_guard<std::mutex> lock(memMu_);
  if (activeBytes_ + cls.bytes > memoryLimit_) {
    EvictTo(0);
    Fail(ErrorCode::kOom, "allocating " + std::to_string(nbytes) + " bytes of device memory would exceed the memory limit of " +
                              std::to_string(memoryLimit_) + " bytes (" + std::to_string(activeBytes_) + " in use)");
  }
  CUdeviceptr ptr = TakeCached(cls.bytes);
  if (ptr == 0) {
    CUresult r = api_->cuMemAlloc(&ptr, cls.bytes);
    if (r == kCudaErrorOutOfMemory) {
      EvictTo(0);
      r = api_->cuMemAlloc(&ptr, cls.bytes);
    }
    if (r == kCudaErrorOutOfMemory) {
      Fail(ErrorCode::kOom, "out of device memory allocating " + std::to_string(nbytes) + " bytes (" +
                                std::to_string(activeBytes_) + " bytes in use by metalarray)");
    }
    Check(r, "cuMemAlloc");
  }
  const std::uint32_t id = nextId_++;
  if (nextId_ == 0 || nextId_ > 0x7fffffffu) nextId_ = 1;
  live_[id] = Block{ptr, nbytes, cls.bytes};
  activeBytes_ += cls.bytes;
  peakBytes_ = std::max(peakBytes_, activeBytes_);
  return id;
}

void Runtime::Free(std::int64_t id) {
  std::lock_guard<std::mutex> lock(memMu_);
  Block* b = Find(id);
  if (b == nullptr) Fail(ErrorCode::kBadBuffer, "unknown or already freed CUDA buffer id " + std::to_string(id));
  const Block block = *b;
  live_.erase(static_cast<std::uint32_t>(id));
  activeBytes_ -= block.classBytes;
  // Work already issued on the one stream runs before any later use of the block.
  lru_.push_back(Cached{block.ptr, block.classBytes});
  byClass_.emplace(block.classBytes, std::prev(lru_.end()));
  cachedBytes_ += block.classBytes;
  if (cachedBytes_ > cacheLimit_) EvictTo(cacheLimit_);
}

bool Runtime::FreeQuietly(std::int64_t id) noexcept {
  try {
    Free(id);
    return true;
  } catch (...) {
    return false;
  }
}

MemoryStats Runtime::Stats() {
  std::lock_guard<std::mutex> lock(memMu_);
  return MemoryStats{activeBytes_, cachedBytes_, peakBytes_, live_.size(), lru_.size(), cacheLimit_, memoryLimit_};
}

void Runtime::ClearCache() {
  std::lock_guard<std::mutex> lock(memMu_);
  if (api_ != nullptr) EvictTo(0);
}

void Runtime::SetCacheLimit(std::uint64_t bytes) {
  std::lock_guard<std::mutex> lock(memMu_);
  cacheLimit_ = bytes;
  if (api_ != nullptr) EvictTo(bytes);
}

void Runtime::SetMemoryLimit(std::uint64_t bytes) {
  std::lock_guard<std::mutex> lock(memMu_);
  memoryLimit_ = bytes;
}

// ---- transfers through pinned staging ----

// The device address of bytes [offset, offset + n) of buffer `id`; throws when the
// buffer is unknown or the range leaves it (`what` names the transfer).
CUdeviceptr Runtime::Span(std::int64_t id, std::uint64_t offset, std::size_t n, const char* what) {
  std::lock_guard<std::mutex> lock(memMu_);
  Block* b = Find(id);
  if (b == nullptr) Fail(ErrorCode::kBadBuffer, "unknown or already freed CUDA buffer id " + std::to_string(id));
  if (offset > b->bytes || n > b->bytes - offset) {
    Fail(ErrorCode::kBadArgument, std::string(what) + " of " + std::to_string(n) + " bytes at byteOffset " + std::to_string(offset) +
                                      " exceeds the buffer's " + std::to_string(b->bytes) + " bytes");
  }
  return b->ptr + offset;
}

void Runtime::Write(std::int64_t id, std::uint64_t offset, const std::uint8_t* src, std::size_t n) {
  MakeCurrent();
  const CUdeviceptr base = Span(id, offset, n, "write");
  std::lock_guard<std::mutex> lock(stagingMu_);
  for (std::size_t done = 0; done < n;) {
    const std::size_t chunk = std::min(kStagingBytes, n - done);
    std::memcpy(staging_, src + done, chunk);
    Check(api_->cuMemcpyHtoDAsync(base + done, staging_, chunk, stream_), "cuMemcpyHtoDAsync");
    Synchronize(nullptr);  // the staging buffer is reused by the next chunk
    done += chunk;
  }
}

void Runtime::Read(std::int64_t id, std::uint64_t offset, std::uint8_t* dst, std::size_t n) {
  MakeCurrent();
  const CUdeviceptr base = Span(id, offset, n, "read");
  std::lock_guard<std::mutex> lock(stagingMu_);
  for (std::size_t done = 0; done < n;) {
    const std::size_t chunk = std::min(kStagingBytes, n - done);
    Check(api_->cuMemcpyDtoHAsync(staging_, base + done, chunk, stream_), "cuMemcpyDtoHAsync");
    Synchronize(nullptr);
    std::memcpy(dst + done, staging_, chunk);
    done += chunk;
  }
}

// ---- compilation and kernels ----

std::vector<char> Runtime::Compile(const std::string& name, const std::string& source, const std::string& arch) {
  MakeCurrent();
  NvrtcOutcome out = CompileKernel(*api_, name, source, arch);
  if (!out.created) Fail(ErrorCode::kGpu, "nvrtcCreateProgram failed: " + out.error);
  if (!out.compiled) {
    Fail(ErrorCode::kCompile, "NVRTC could not compile kernel " + name + " for " + arch + " (" + out.error + "):\n" + out.log);
  }
  return std::move(out.cubin);
}

std::vector<std::uint32_t> Runtime::LoadModule(const std::uint8_t* image, std::size_t size,
                                               const std::vector<std::string>& names) {
  MakeCurrent();
  if (size == 0) Fail(ErrorCode::kBadArgument, "empty CUDA module image");
  CUmodule mod = nullptr;
  Check(api_->cuModuleLoadData(&mod, image), "cuModuleLoadData");
  std::vector<CUfunction> fns;
  for (const std::string& n : names) {
    CUfunction fn = nullptr;
    const CUresult r = api_->cuModuleGetFunction(&fn, mod, n.c_str());
    if (r != kCudaSuccess) FailGpu(r, "cuModuleGetFunction(" + n + ")");
    fns.push_back(fn);
  }
  std::lock_guard<std::mutex> lock(kernelMu_);
  std::vector<std::uint32_t> ids;
  for (std::size_t i = 0; i < fns.size(); i++) {
    ids.push_back(static_cast<std::uint32_t>(kernels_.size()));
    kernels_.push_back(fns[i]);
    kernelNames_.push_back(names[i]);
  }
  return ids;
}

// ---- plans ----

Plan Runtime::Prepare(const std::int32_t* commands, std::size_t nCommands, const std::int64_t* args,
                      std::size_t nArgs) {
  MakeCurrent();
  Plan plan;
  std::uint64_t maxScratch = 0;
  const std::size_t argBytesTotal = nArgs * 8;
  std::size_t pos = 0;
  std::unique_lock<std::mutex> klock(kernelMu_);
  std::unique_lock<std::mutex> mlock(memMu_);
  while (pos < nCommands) {
    if (nCommands - pos < 3) Fail(ErrorCode::kKernel, "truncated GPU plan command at word " + std::to_string(pos));
    const std::int32_t kernel = commands[pos];
    const std::int32_t argOffset = commands[pos + 1];
    const std::int32_t nBufs = commands[pos + 2];
    if (kernel < 0 || static_cast<std::size_t>(kernel) >= kernels_.size()) {
      Fail(ErrorCode::kKernel, "unknown CUDA kernel id " + std::to_string(kernel));
    }
    if (nBufs < 0 || nCommands - pos - 3 < static_cast<std::size_t>(nBufs) + kLaunchWords) {
      Fail(ErrorCode::kKernel, "truncated GPU plan command for kernel " + kernelNames_[kernel]);
    }
    const std::int32_t* w = commands + pos + 3 + nBufs;
    Launch l{};
    l.fn = kernels_[kernel];
    l.kernel = static_cast<std::uint32_t>(kernel);
    for (int i = 0; i < 3; i++) {
      if (w[i] < 0 || w[3 + i] < 0) Fail(ErrorCode::kKernel, "negative grid or block for kernel " + kernelNames_[kernel]);
      l.grid[i] = static_cast<unsigned>(w[i]);
      l.block[i] = static_cast<unsigned>(w[3 + i]);
    }
    const std::int32_t shared = w[6];
    const std::int32_t argBytes = w[7];
    const std::int32_t scratchBytes = w[8];
    if (scratchBytes < 0) Fail(ErrorCode::kKernel, "negative scratch size for kernel " + kernelNames_[kernel]);
    maxScratch = std::max<std::uint64_t>(maxScratch, static_cast<std::uint64_t>(scratchBytes));
    if (l.block[0] * static_cast<std::uint64_t>(l.block[1]) * l.block[2] > kMaxBlockThreads || l.grid[1] > 65535 || l.grid[2] > 65535 ||
        shared < 0) {
      Fail(ErrorCode::kKernel, "launch geometry out of range for kernel " + kernelNames_[kernel]);
    }
    if (argOffset < 0 || argOffset % 8 != 0 || argBytes < 0 ||
        static_cast<std::size_t>(argOffset) + static_cast<std::size_t>(argBytes) > argBytesTotal) {
      Fail(ErrorCode::kKernel, "args of kernel " + kernelNames_[kernel] + " lie outside the args block");
    }
    l.sharedBytes = static_cast<unsigned>(shared);
    if (shared > kStaticSharedBytes) {
      // Dynamic shared memory past 48 KB must be allowed per function first.
      const std::string call = "cuFuncSetAttribute (" + std::to_string(shared) + " dynamic shared bytes) for kernel " + kernelNames_[kernel];
      Check(api_->cuFuncSetAttribute(l.fn, kMaxDynamicSharedAttribute, shared), call.c_str());
    }
    l.argBlob = reinterpret_cast<const std::uint8_t*>(args) + argOffset;
    l.argCopy = 0;
    if (static_cast<std::size_t>(argBytes) > kArgsInlineBytes) {
      CUdeviceptr copy = 0;
      Check(api_->cuMemAlloc(&copy, static_cast<std::size_t>(argBytes)), "cuMemAlloc (kernel args)");
      plan.argCopies.push_back(copy);
      Check(api_->cuMemcpyHtoD(copy, l.argBlob, static_cast<std::size_t>(argBytes)), "cuMemcpyHtoD (kernel args)");
      l.argCopy = copy;
    }
    l.firstPtr = plan.ptrs.size();
    l.nBufs = static_cast<std::size_t>(nBufs);
    for (std::int32_t i = 0; i < nBufs; i++) {
      Block* b = Find(commands[pos + 3 + i]);
      if (b == nullptr) Fail(ErrorCode::kBadBuffer, "unknown or already freed CUDA buffer id " + std::to_string(commands[pos + 3 + i]) + " in plan");
      plan.ptrs.push_back(b->ptr);
    }
    plan.launches.push_back(l);
    pos += 3 + static_cast<std::size_t>(nBufs) + kLaunchWords;
  }
  mlock.unlock();
  klock.unlock();  // Synchronize (in EnsureScratch) may take it to name kernels
  EnsureScratch(maxScratch);
  return plan;
}

void Runtime::EnsureScratch(std::uint64_t bytes) {
  if (bytes <= scratchBytes_) return;
  const std::uint64_t grown = std::max<std::uint64_t>(bytes, scratchBytes_ * 2);
  Synchronize(nullptr);  // nothing in flight may still use the old scratch
  if (scratch_ != 0) api_->cuMemFree(scratch_);
  scratch_ = 0;
  scratchBytes_ = 0;
  CUdeviceptr p = 0;
  Check(api_->cuMemAlloc(&p, grown), "cuMemAlloc (scratch)");
  const CUresult r = api_->cuMemsetD8(p, 0, grown);
  if (r != kCudaSuccess) {
    api_->cuMemFree(p);
    FailGpu(r, "cuMemsetD8 (scratch)");
  }
  scratch_ = p;
  scratchBytes_ = grown;
}

void Runtime::Issue(const Plan& plan) {
  std::vector<void*> params;
  for (const Launch& l : plan.launches) {
    if (l.grid[0] == 0 || l.grid[1] == 0 || l.grid[2] == 0) continue;
    params.clear();
    for (std::size_t i = 0; i < l.nBufs; i++) params.push_back(const_cast<CUdeviceptr*>(&plan.ptrs[l.firstPtr + i]));
    params.push_back(&scratch_);
    params.push_back(l.argCopy != 0 ? const_cast<CUdeviceptr*>(&l.argCopy) : const_cast<void*>(l.argBlob));
    const CUresult r = api_->cuLaunchKernel(l.fn, l.grid[0], l.grid[1], l.grid[2], l.block[0], l.block[1], l.block[2],
                                            l.sharedBytes, stream_, params.data(), nullptr);
    if (r != kCudaSuccess) {
      std::string name;
      {
        std::lock_guard<std::mutex> lock(kernelMu_);
        name = kernelNames_[l.kernel];
      }
      FailGpu(r, "cuLaunchKernel of kernel " + name + " (grid [" + std::to_string(l.grid[0]) + ", " + std::to_string(l.grid[1]) + ", " +
                     std::to_string(l.grid[2]) + "], block [" + std::to_string(l.block[0]) + ", " + std::to_string(l.block[1]) + ", " +
                     std::to_string(l.block[2]) + "], " + std::to_string(l.sharedBytes) + " shared bytes)");
    }
  }
}

std::string Runtime::DescribePlan(const Plan* plan) const {
  if (plan == nullptr || plan->launches.empty()) return "";
  std::string s = " while running kernel(s)";
  std::size_t shown = 0;
  for (const Launch& l : plan->launches) {
    if (shown++ == 4) {
      s += " and " + std::to_string(plan->launches.size() - 4) + " more";
      break;
    }
    s += " " + kernelNames_[l.kernel] + " (grid [" + std::to_string(l.grid[0]) + ", " + std::to_string(l.grid[1]) + ", " +
         std::to_string(l.grid[2]) + "], block [" + std::to_string(l.block[0]) + ", " + std::to_string(l.block[1]) + ", " +
         std::to_string(l.block[2]) + "])";
  }
  return s;
}

void Runtime::Synchronize(const Plan* plan) {
  const CUresult r = api_->cuStreamSynchronize(stream_);
  if (r != kCudaSuccess) {
    std::lock_guard<std::mutex> lock(kernelMu_);
    FailGpu(r, "cuStreamSynchronize" + DescribePlan(plan));
  }
}

CUevent Runtime::RecordEvent() {
  CUevent ev = nullptr;
  Check(api_->cuEventCreate(&ev, kEventDisableTiming), "cuEventCreate");
  const CUresult r = api_->cuEventRecord(ev, stream_);
  if (r != kCudaSuccess) {
    api_->cuEventDestroy(ev);
    FailGpu(r, "cuEventRecord");
  }
  return ev;
}

void Runtime::WaitEvent(CUevent event, const std::string& what) {
  MakeCurrent();
  const CUresult r = api_->cuEventSynchronize(event);
  api_->cuEventDestroy(event);
  if (r != kCudaSuccess) FailGpu(r, "cuEventSynchronize" + what);
}

std::vector<double> Runtime::Time(const Plan& plan, int reps) {
  std::vector<CUevent> events(static_cast<std::size_t>(reps) + 1, nullptr);
  struct EventsGuard {
    const DriverApi* api;
    std::vector<CUevent>* evs;
    ~EventsGuard() {
      for (CUevent e : *evs)
        if (e != nullptr) api->cuEventDestroy(e);
    }
  } guard{api_, &events};
  for (CUevent& e : events) Check(api_->cuEventCreate(&e, kEventDefault), "cuEventCreate");
  Check(api_->cuEventRecord(events[0], stream_), "cuEventRecord");
  for (int i = 0; i < reps; i++) {
    Issue(plan);
    Check(api_->cuEventRecord(events[static_cast<std::size_t>(i) + 1], stream_), "cuEventRecord");
  }
  Synchronize(&plan);
  std::vector<double> ms;
  for (int i = 0; i < reps; i++) {
    float t = 0;
    Check(api_->cuEventElapsedTime(&t, events[static_cast<std::size_t>(i)], events[static_cast<std::size_t>(i) + 1]), "cuEventElapsedTime");
    ms.push_back(t);
  }
  return ms;
}

}  // namespace ma::cuda
