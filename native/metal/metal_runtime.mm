// The Metal runtime (see metal_runtime.h). Objective-C++ with ARC: Metal objects held
// in C++ members and blocks are retained and released by the compiler. Every entry
// point and every completion handler runs inside @autoreleasepool, because Node's main
// thread and Metal's completion threads have no draining pool of their own.
#import <Foundation/Foundation.h>
#import <Metal/Metal.h>

#include "autorelease.h"
#include "metal_runtime.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../common/buffer_pool.h"
#include "../common/errors.h"

namespace ma::metal {

namespace {

// The MSL version kernels are written for: bfloat needs 3.1 (macOS 14).
constexpr MTLLanguageVersion kLanguageVersion = MTLLanguageVersion3_1;
constexpr const char* kLanguageVersionName = "3.1";
// setBytes is documented for data under 4 KB; larger argument blocks go in a buffer.
constexpr std::size_t kInlineArgBytes = 4096;
constexpr std::size_t kMaxCommandBuffers = 31;  // Metal's buffer-table entries

std::string ToStd(NSString* s) {
  if (s == nil) return "";
  const char* utf8 = [s UTF8String];
  return utf8 != nullptr ? std::string(utf8) : std::string();
}

std::string Describe(NSError* error) {
  if (error == nil) return "unknown error";
  return ToStd([error localizedDescription]);
}

std::string SizeText(const std::uint32_t v[3]) {
  return "(" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ", " + std::to_string(v[2]) + ")";
}

// A probe kernel per feature: the device supports the feature if it compiles.
const char* const kSimdgroupMatrixProbe = R"(#include <metal_stdlib>
using namespace metal;
kernel void probe(device float* out [[buffer(0)]], uint lane [[thread_index_in_simdgroup]]) {
  simdgroup_float8x8 a = make_filled_simdgroup_matrix<float, 8, 8>(1.0f);
  simdgroup_float8x8 c = make_filled_simdgroup_matrix<float, 8, 8>(0.0f);
  simdgroup_multiply_accumulate(c, a, a, c);
  simdgroup_store(c, out, 8);
}
)";
const char* const kWidthProbe = R"(#include <metal_stdlib>
using namespace metal;
kernel void probe(device float* out [[buffer(0)]], uint i [[thread_position_in_grid]]) {
  out[i] = out[i] + 1.0f;
}
)";
const char* const kBfloatProbe = R"(#include <metal_stdlib>
using namespace metal;
kernel void probe(device bfloat* out [[buffer(0)]], uint i [[thread_position_in_grid]]) {
  out[i] = bfloat(float(out[i]) + 1.0f);
}
)";

}  // namespace

// Ends a compute encoder when it goes out of scope.
struct EncoderScope {
  id<MTLComputeCommandEncoder> encoder;
  ~EncoderScope() { [encoder endEncoding]; }
};

// One launch of a validated plan.
struct Launch {
  std::int32_t kernel;
  std::uint32_t argOffset;
  std::uint32_t argBytes;
  std::uint32_t grid[3];
  std::uint32_t group[3];
  std::uint32_t sharedBytes;
  std::uint32_t scratchBytes;
  std::size_t firstBuffer;  // index into PreparedGpuPlan::ids_
  std::size_t bufferCount;
};

class PreparedGpuPlan {
 public:
  PreparedGpuPlan() = default;
  ~PreparedGpuPlan() {
    if (pinned_) BufferPool::Instance().UnpinAll(ids_.data(), ids_.size());
  }
  PreparedGpuPlan(const PreparedGpuPlan&) = delete;
  PreparedGpuPlan& operator=(const PreparedGpuPlan&) = delete;

  std::vector<Launch> launches;
  std::vector<std::int64_t> args;
  std::vector<std::int32_t> ids_;
  std::vector<void*> ptrs;
  std::vector<std::uint64_t> lengths;
  bool pinned_ = false;
};

// Where a kernel's library comes from: its MSL, and the offline compiler's metallib of
// it when one was loaded (Runtime::LoadLibrary); shared by the kernels of one library.
struct LibraryOrigin {
  std::string source;
  std::string metallibPath;  // "" when Metal compiled the source at run time
};

// A compiled kernel. Its id (index in Impl::kernels) never changes; its pipeline is nil
// while the LRU bound has it evicted, and is rebuilt from `origin` when it next runs.
struct Kernel {
  std::string name;
  std::shared_ptr<const LibraryOrigin> origin;
  id<MTLComputePipelineState> pipeline;
  std::list<std::int32_t>::iterator lru;  // its place in Impl::lru while resident
};

namespace {

// The Metal buffers one command buffer uses, kept alive until it completes. Pool blocks
// that are page-aligned and at least a page long are wrapped in place (shared storage:
// the pool's memory is the GPU's memory); smaller blocks are staged through a shared
// buffer, copied in before the commit and, if a kernel writes it, back out after
// completion.
struct Bindings {
  std::vector<id<MTLBuffer>> buffers;  // per plan buffer entry
  struct Staged {
    void* host;
    std::uint64_t length;
    id<MTLBuffer> buffer;
    bool written;  // the output of some launch
  };
  std::vector<Staged> staged;
  std::vector<id<MTLBuffer>> argBuffers;

  void CopyBack() const {
    for (const Staged& s : staged) {
      if (s.written) std::memcpy(s.host, [s.buffer contents], s.length);
    }
  }
};

}  // namespace

struct Runtime::Impl {
  id<MTLDevice> device;
  id<MTLCommandQueue> queue;
  DeviceInfo info;
  mutable std::mutex mu;  // guards kernels, bySource, lru, stats, archive and scratch
  std::deque<Kernel> kernels;  // a deque: references stay valid as kernels are added
  std::unordered_map<std::string, std::int32_t> bySource;  // source + '\0' + name -> id
  std::list<std::int32_t> lru;  // resident kernels, most recently launched first
  std::size_t pipelineLimit = kDefaultPipelineLimit;
  PipelineStats stats{};
  // The binary archive pipelines are looked up in and added to (never nil once the
  // runtime is constructed); archiveMu orders additions and serialization.
  id<MTLBinaryArchive> archive;
  std::mutex archiveMu;
  std::uint64_t pageBytes = static_cast<std::uint64_t>(getpagesize());
  // The contract's scratch buffer: zero-initialized, kernels that use it leave it zeroed.
  // Grown (never shrunk) under mu; command buffers keep the one they bound alive.
  id<MTLBuffer> scratch;

  id<MTLBuffer> ScratchOf(std::uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mu);
    const std::uint64_t want = std::max<std::uint64_t>(bytes, 16);
    if (scratch == nil || scratch.length < want) {
      id<MTLBuffer> grown = [device newBufferWithLength:want options:MTLResourceStorageModeShared];
      if (grown == nil) Fail(ErrorCode::kOom, "Metal could not allocate a scratch buffer of " + std::to_string(want) + " bytes");
      std::memset([grown contents], 0, want);
      scratch = grown;
    }
    return scratch;
  }

  MTLCompileOptions* Options() const {
    MTLCompileOptions* options = [[MTLCompileOptions alloc] init];
    options.languageVersion = kLanguageVersion;
    // Fast math (the default) would reassociate and flush: results must match the oracle.
    if (@available(macOS 15.0, *)) {
      options.mathMode = MTLMathModeSafe;
    } else {
      options.fastMathEnabled = NO;
    }
    return options;
  }

  // Compiles a source; nil and `log` set on failure.
  id<MTLLibrary> Library(const std::string& source, std::string* log) const {
    NSError* error = nil;
    NSString* text = [NSString stringWithUTF8String:source.c_str()];
    if (text == nil) {
      *log = "the kernel source is not valid UTF-8";
      return nil;
    }
    id<MTLLibrary> library = [device newLibraryWithSource:text options:Options() error:&error];
    if (library == nil) *log = Describe(error);
    return library;
  }

  // The library of `origin`: the metallib when it has one Metal can read, else its
  // source compiled; nil and `log` set on failure.
  id<MTLLibrary> LibraryOf(const LibraryOrigin& origin, std::string* log) const {
    if (!origin.metallibPath.empty()) {
      NSString* file = [NSString stringWithUTF8String:origin.metallibPath.c_str()];
      NSError* error = nil;
      id<MTLLibrary> library = file != nil ? [device newLibraryWithURL:[NSURL fileURLWithPath:file] error:&error] : nil;
      if (library != nil) return library;
      *log = "Metal could not read the metallib " + origin.metallibPath + ": " + Describe(error);
      if (origin.source.empty()) return nil;
    }
    return Library(origin.source, log);
  }

  // Ids of the kernels `names` of `origin`'s library, compiled or loaded (`library`,
  // made on demand) for those not registered yet. Throws ERR_MA_COMPILE.
  std::vector<std::int32_t> Register(const std::shared_ptr<const LibraryOrigin>& origin, const std::string& keyPrefix,
                                     const std::vector<std::string>& names);

  bool ProbeCompiles(const char* source) const {
    std::string log;
    id<MTLLibrary> library = Library(source, &log);
    if (library == nil) return false;
    id<MTLFunction> function = [library newFunctionWithName:@"probe"];
    if (function == nil) return false;
    NSError* error = nil;
    return [device newComputePipelineStateWithFunction:function error:&error] != nil;
  }

  std::string Family() const {
    static const std::pair<MTLGPUFamily, const char*> kFamilies[] = {
        {MTLGPUFamilyApple9, "apple9"}, {MTLGPUFamilyApple8, "apple8"}, {MTLGPUFamilyApple7, "apple7"},
        {MTLGPUFamilyMetal3, "metal3"}, {MTLGPUFamilyMac2, "mac2"},
    };
    for (const auto& [family, name] : kFamilies) {
      if ([device supportsFamily:family]) return name;
    }
    return "unknown";
  }

  std::uint64_t SimdWidth() const {
    std::string log;
    id<MTLLibrary> library = Library(kWidthProbe, &log);
    id<MTLFunction> function = library != nil ? [library newFunctionWithName:@"probe"] : nil;
    NSError* error = nil;
    id<MTLComputePipelineState> pipeline =
        function != nil ? [device newComputePipelineStateWithFunction:function error:&error] : nil;
    return pipeline != nil ? pipeline.threadExecutionWidth : 32;
  }

  // Throws ERR_MA_KERNEL for an id no Compile returned.
  void CheckKernel(std::int32_t kernelId) const {
    std::lock_guard<std::mutex> lock(mu);
    if (kernelId < 0 || static_cast<std::size_t>(kernelId) >= kernels.size()) {
      Fail(ErrorCode::kKernel, "unknown Metal kernel id " + std::to_string(kernelId));
    }
  }

  id<MTLBinaryArchive> Archive() const {
    std::lock_guard<std::mutex> lock(mu);
    return archive;
  }

  // The pipeline of `function`: from the binary archive when it holds it (no GPU
  // compile), else compiled and added to the archive. Throws ERR_MA_COMPILE.
  id<MTLComputePipelineState> Pipeline(id<MTLFunction> function, const std::string& name) {
    MTLComputePipelineDescriptor* descriptor = [[MTLComputePipelineDescriptor alloc] init];
    descriptor.computeFunction = function;
    id<MTLBinaryArchive> store = Archive();
    NSError* error = nil;
    if (store != nil) {
      descriptor.binaryArchives = [NSArray arrayWithObject:store];
      id<MTLComputePipelineState> found = [device newComputePipelineStateWithDescriptor:descriptor
                                                                               options:MTLPipelineOptionFailOnBinaryArchiveMiss
                                                                            reflection:nullptr
                                                                                 error:&error];
      if (found != nil) {
        std::lock_guard<std::mutex> lock(mu);
        ++stats.loaded;
        return found;
      }
      error = nil;  // a miss: compile it below
    }
    id<MTLComputePipelineState> built = [device newComputePipelineStateWithDescriptor:descriptor
                                                                              options:MTLPipelineOptionNone
                                                                           reflection:nullptr
                                                                                error:&error];
    if (built == nil) Fail(ErrorCode::kCompile, "Metal could not build a pipeline for kernel " + name + ": " + Describe(error));
    bool added = false;
    std::string refused;
    if (store != nil) {
      std::lock_guard<std::mutex> archiveLock(archiveMu);
      NSError* addError = nil;
      added = [store addComputePipelineFunctionsWithDescriptor:descriptor error:&addError];
      if (!added) refused = "the binary archive refused kernel " + name + ": " + Describe(addError);
    }
    std::lock_guard<std::mutex> lock(mu);
    ++stats.compiled;
    if (added) ++stats.pending;
    if (!refused.empty()) stats.archiveNote = refused;  // the pipeline runs; only the disk cache misses it
    return built;
  }

  // Marks resident kernel `id` most recently used. Called with mu held.
  void Use(std::int32_t kernelId) {
    Kernel& k = kernels[static_cast<std::size_t>(kernelId)];
    lru.splice(lru.begin(), lru, k.lru);
  }

  // Holds `pipeline` for kernel `id` (not resident) as the most recently used, evicting
  // the least recently used others beyond the limit. Called with mu held.
  void Admit(std::int32_t kernelId, id<MTLComputePipelineState> pipeline) {
    Kernel& k = kernels[static_cast<std::size_t>(kernelId)];
    k.pipeline = pipeline;
    lru.push_front(kernelId);
    k.lru = lru.begin();
    EvictTo(pipelineLimit);
  }

  // Drops pipelines, least recently used first, until at most `limit` are held (the
  // most recently used one always stays). Called with mu held.
  void EvictTo(std::size_t limit) {
    while (lru.size() > std::max<std::size_t>(limit, 1)) {
      Kernel& victim = kernels[static_cast<std::size_t>(lru.back())];
      victim.pipeline = nil;
      lru.pop_back();
      ++stats.evicted;
    }
  }

  // The pipeline of kernel `id`, rebuilt if the LRU evicted it, marked most recently
  // used; also its name. Throws ERR_MA_KERNEL for an unknown id, ERR_MA_COMPILE if a
  // rebuild fails.
  id<MTLComputePipelineState> Resident(std::int32_t kernelId, const std::string** name) {
    std::shared_ptr<const LibraryOrigin> origin;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (kernelId < 0 || static_cast<std::size_t>(kernelId) >= kernels.size()) {
        Fail(ErrorCode::kKernel, "unknown Metal kernel id " + std::to_string(kernelId));
      }
      Kernel& k = kernels[static_cast<std::size_t>(kernelId)];
      *name = &k.name;  // a deque element: the pointer stays valid
      if (k.pipeline != nil) {
        Use(kernelId);
        return k.pipeline;
      }
      origin = k.origin;
    }
    const std::string& kernelName = **name;
    std::string log;
    id<MTLLibrary> library = LibraryOf(*origin, &log);
    if (library == nil) Fail(ErrorCode::kCompile, "Metal could not rebuild the library of kernel " + kernelName + ": " + log);
    NSString* fn = [NSString stringWithUTF8String:kernelName.c_str()];
    id<MTLFunction> function = fn != nil ? [library newFunctionWithName:fn] : nil;
    if (function == nil) Fail(ErrorCode::kCompile, "the rebuilt library has no kernel named " + kernelName);
    id<MTLComputePipelineState> pipeline = Pipeline(function, kernelName);
    std::lock_guard<std::mutex> lock(mu);
    Kernel& k = kernels[static_cast<std::size_t>(kernelId)];
    if (k.pipeline == nil) {
      Admit(kernelId, pipeline);
    } else {
      Use(kernelId);  // another thread rebuilt it meanwhile
    }
    return k.pipeline;
  }

  std::shared_ptr<Bindings> Encode(const PreparedGpuPlan& plan, id<MTLCommandBuffer> commandBuffer,
                                   std::string* summary);
};

Runtime& Runtime::Instance() {
  // Constructed once; a failed construction (no device) throws and is retried next call.
  static std::mutex initMu;
  static Runtime* instance = nullptr;
  std::lock_guard<std::mutex> lock(initMu);
  if (instance == nullptr) instance = new Runtime();  // never destroyed, like the pool
  return *instance;
}

Runtime::Runtime() : impl_(std::make_unique<Impl>()) {
  WithAutoreleasePool([&]() {
    id<MTLDevice> device = MTLCreateSystemDefaultDevice();
    if (device == nil) {
      // Headless and CI sessions may get no default device; take any the system lists.
      NSArray<id<MTLDevice>>* all = MTLCopyAllDevices();
      if (all != nil && [all count] > 0) device = [all objectAtIndex:0];
    }
    if (device == nil) {
      Fail(ErrorCode::kGpu,
           "no Metal device: MTLCreateSystemDefaultDevice returned nil and MTLCopyAllDevices listed none");
    }
    impl_->device = device;
    impl_->queue = [device newCommandQueue];
    if (impl_->queue == nil) Fail(ErrorCode::kGpu, "Metal device " + ToStd(device.name) + " gave no command queue");
    DeviceInfo& info = impl_->info;
    info.name = ToStd(device.name);
    info.family = impl_->Family();
    info.memoryBytes = device.recommendedMaxWorkingSetSize;
    info.maxBufferLength = device.maxBufferLength;
    const MTLSize maxGroup = device.maxThreadsPerThreadgroup;
    info.maxThreadsPerThreadgroup = maxGroup.width;
    info.threadgroupMemoryBytes = device.maxThreadgroupMemoryLength;
    info.unifiedMemory = device.hasUnifiedMemory;
    info.simdgroupMatrix = impl_->ProbeCompiles(kSimdgroupMatrixProbe);
    info.bfloat = impl_->ProbeCompiles(kBfloatProbe);
    info.simdWidth = impl_->SimdWidth();
    info.languageVersion = kLanguageVersionName;
  });
  OpenArchive("");  // an empty archive until the caller opens the disk cache's
}

Runtime::~Runtime() = default;

DeviceInfo Runtime::Info() const { return impl_->info; }

std::vector<std::int32_t> Runtime::Impl::Register(const std::shared_ptr<const LibraryOrigin>& origin,
                                                  const std::string& keyPrefix, const std::vector<std::string>& names) {
  std::vector<std::int32_t> ids(names.size(), -1);
  bool allCached = true;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const auto it = bySource.find(keyPrefix + '\0' + names[i]);
      if (it != bySource.end()) ids[i] = it->second;
      else allCached = false;
    }
  }
  if (allCached) return ids;
  std::string log;
  id<MTLLibrary> library = LibraryOf(*origin, &log);
  if (library == nil) Fail(ErrorCode::kCompile, "Metal rejected the kernel library: " + log);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (ids[i] >= 0) continue;
    NSString* name = [NSString stringWithUTF8String:names[i].c_str()];
    id<MTLFunction> function = name != nil ? [library newFunctionWithName:name] : nil;
    if (function == nil) Fail(ErrorCode::kCompile, "the compiled library has no kernel named " + names[i]);
    id<MTLComputePipelineState> pipeline = Pipeline(function, names[i]);
    std::lock_guard<std::mutex> lock(mu);
    const std::string key = keyPrefix + '\0' + names[i];
    const auto it = bySource.find(key);  // another thread may have won
    if (it != bySource.end()) {
      ids[i] = it->second;
      continue;
    }
    ids[i] = static_cast<std::int32_t>(kernels.size());
    kernels.push_back(Kernel{names[i], origin, nil, {}});
    Admit(ids[i], pipeline);
    bySource.emplace(key, ids[i]);
  }
  return ids;
}

std::vector<std::int32_t> Runtime::Compile(const std::string& source, const std::vector<std::string>& names) {
  return WithAutoreleasePool([&]() {
    // Keyed by the source: a kernel compiled again returns its id.
    return impl_->Register(std::make_shared<const LibraryOrigin>(LibraryOrigin{source, ""}), source, names);
  });
}

std::vector<std::int32_t> Runtime::LoadLibrary(const std::string& metallibPath, const std::string& source,
                                               const std::vector<std::string>& names) {
  if (metallibPath.empty()) Fail(ErrorCode::kBadArgument, "metalLoadLibrary: the metallib path must not be empty");
  return WithAutoreleasePool([&]() {
    // Keyed by the file (content-addressed in the cache), apart from source keys.
    return impl_->Register(std::make_shared<const LibraryOrigin>(LibraryOrigin{source, metallibPath}),
                           "metallib:" + metallibPath, names);
  });
}

std::string Runtime::OpenArchive(const std::string& path) {
  return WithAutoreleasePool([&]() {
    std::string why;
    NSError* error = nil;
    id<MTLBinaryArchive> opened = nil;
    if (!path.empty()) {
      NSString* file = [NSString stringWithUTF8String:path.c_str()];
      if (file == nil) {
        why = "the archive path is not valid UTF-8";
      } else {
        MTLBinaryArchiveDescriptor* descriptor = [[MTLBinaryArchiveDescriptor alloc] init];
        descriptor.url = [NSURL fileURLWithPath:file];
        opened = [impl_->device newBinaryArchiveWithDescriptor:descriptor error:&error];
        if (opened == nil) why = "Metal could not read the binary archive " + path + ": " + Describe(error);
      }
    }
    if (opened == nil) {
      error = nil;
      opened = [impl_->device newBinaryArchiveWithDescriptor:[[MTLBinaryArchiveDescriptor alloc] init] error:&error];
      if (opened == nil) Fail(ErrorCode::kGpu, "Metal could not create a binary archive: " + Describe(error));
    }
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->archive = opened;
    impl_->stats.pending = 0;
    if (!why.empty()) impl_->stats.archiveNote = why;
    return why;
  });
}

bool Runtime::SaveArchive(const std::string& path) {
  return WithAutoreleasePool([&]() {
    id<MTLBinaryArchive> store = impl_->Archive();
    std::lock_guard<std::mutex> archiveLock(impl_->archiveMu);  // no addition mid-write
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      if (impl_->stats.pending == 0) return false;
    }
    NSString* file = [NSString stringWithUTF8String:path.c_str()];
    if (file == nil) Fail(ErrorCode::kBadArgument, "the archive path is not valid UTF-8");
    NSError* error = nil;
    if (![store serializeToURL:[NSURL fileURLWithPath:file] error:&error]) {
      Fail(ErrorCode::kGpu, "Metal could not write the binary archive to " + path + ": " + Describe(error));
    }
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stats.pending = 0;
    return true;
  });
}

void Runtime::SetPipelineLimit(std::size_t limit) {
  if (limit == 0) Fail(ErrorCode::kBadArgument, "the Metal pipeline limit must be at least 1");
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->pipelineLimit = limit;
  impl_->EvictTo(limit);
}

PipelineStats Runtime::Stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  PipelineStats out = impl_->stats;
  out.resident = impl_->lru.size();
  out.limit = impl_->pipelineLimit;
  return out;
}

std::shared_ptr<PreparedGpuPlan> Runtime::Prepare(const std::int32_t* commands, std::size_t commandCount,
                                                  const std::int64_t* args, std::size_t argCount) {
  auto plan = std::make_shared<PreparedGpuPlan>();
  plan->args.assign(args, args + argCount);
  const std::uint64_t argBytesTotal = static_cast<std::uint64_t>(argCount) * sizeof(std::int64_t);
  std::size_t index = 0;
  for (std::size_t pos = 0; pos < commandCount; ++index) {
    const auto malformed = [&](const std::string& what) {
      Fail(ErrorCode::kKernel, "malformed Metal plan: command " + std::to_string(index) + ": " + what);
    };
    if (commandCount - pos < kCommandHeaderInts) malformed("truncated header");
    const std::int32_t* c = commands + pos;
    Launch launch{};
    launch.kernel = c[0];
    impl_->CheckKernel(launch.kernel);  // throws for an unknown id
    if (c[1] < 0 || c[1] % 8 != 0) malformed("argOffset must be a non-negative multiple of 8");
    launch.argOffset = static_cast<std::uint32_t>(c[1]);
    const std::int32_t nBufs = c[2];
    if (nBufs < 0 || static_cast<std::size_t>(nBufs) + 2 > kMaxCommandBuffers) {
      malformed("buffer count must be 0.." + std::to_string(kMaxCommandBuffers - 2) + " (two slots are the scratch and the args)");
    }
    if (commandCount - pos - kCommandHeaderInts < static_cast<std::size_t>(nBufs) + kLaunchInts) {
      malformed("truncated buffer list or launch words");
    }
    const std::int32_t* ids = c + kCommandHeaderInts;
    const std::int32_t* geometry = ids + nBufs;
    for (int d = 0; d < 3; ++d) {
      if (geometry[d] < 0 || geometry[3 + d] < 0) malformed("negative grid or threadgroup size");
      launch.grid[d] = static_cast<std::uint32_t>(geometry[d]);
      launch.group[d] = static_cast<std::uint32_t>(geometry[3 + d]);
    }
    if (geometry[6] < 0 || geometry[7] < 0 || geometry[8] < 0) malformed("negative threadgroup memory, args or scratch size");
    launch.sharedBytes = static_cast<std::uint32_t>(geometry[6]);
    launch.argBytes = static_cast<std::uint32_t>(geometry[7]);
    launch.scratchBytes = static_cast<std::uint32_t>(geometry[8]);
    if (static_cast<std::uint64_t>(launch.argOffset) + launch.argBytes > argBytesTotal) malformed("args out of range");
    launch.firstBuffer = plan->ids_.size();
    launch.bufferCount = static_cast<std::size_t>(nBufs);
    plan->ids_.insert(plan->ids_.end(), ids, ids + nBufs);
    plan->launches.push_back(launch);
    pos += kCommandHeaderInts + static_cast<std::size_t>(nBufs) + kLaunchInts;
  }
  BufferPool& pool = BufferPool::Instance();
  plan->ptrs.resize(plan->ids_.size());
  const std::size_t bad = pool.PinAll(plan->ids_.data(), plan->ids_.size(), plan->ptrs.data());
  if (bad != plan->ids_.size()) {
    Fail(ErrorCode::kBadBuffer, "Metal plan names unknown buffer id " + std::to_string(plan->ids_[bad]));
  }
  plan->pinned_ = true;
  plan->lengths.resize(plan->ids_.size());
  for (std::size_t i = 0; i < plan->ids_.size(); ++i) {
    plan->lengths[i] = pool.ByteLength(plan->ids_[i]);
    if (plan->lengths[i] > impl_->info.maxBufferLength) {
      Fail(ErrorCode::kOom, "a buffer of " + std::to_string(plan->lengths[i]) +
                                " bytes exceeds this Metal device's maxBufferLength of " +
                                std::to_string(impl_->info.maxBufferLength) + " bytes");
    }
  }
  return plan;
}

// Encodes every launch of `plan`; throws ERR_MA_KERNEL naming the kernel, grid and
// threadgroup size of a launch the pipeline cannot take (threadgroup sizes are
// checked against each pipeline's maxTotalThreadsPerThreadgroup, which register use can
// put below the device maximum).
std::shared_ptr<Bindings> Runtime::Impl::Encode(const PreparedGpuPlan& plan, id<MTLCommandBuffer> commandBuffer,
                                                std::string* summary) {
  Impl& rt = *this;
  auto bindings = std::make_shared<Bindings>();
  std::unordered_map<void*, id<MTLBuffer>> byPointer;
  std::unordered_map<void*, bool> outputs;  // blocks some launch writes (its buffer 0)
  for (const Launch& launch : plan.launches) {
    if (launch.bufferCount > 0) outputs[plan.ptrs[launch.firstBuffer]] = true;
  }
  bindings->buffers.resize(plan.ids_.size());
  for (std::size_t i = 0; i < plan.ids_.size(); ++i) {
    void* host = plan.ptrs[i];
    const auto found = byPointer.find(host);
    if (found != byPointer.end()) {
      bindings->buffers[i] = found->second;
      continue;
    }
    const std::uint64_t length = plan.lengths[i];
    const std::uint64_t page = rt.pageBytes;
    id<MTLBuffer> buffer = nil;
    if (length >= page && reinterpret_cast<std::uintptr_t>(host) % page == 0) {
      const std::uint64_t wrapped = (length + page - 1) / page * page;  // within the pool's block
      buffer = [rt.device newBufferWithBytesNoCopy:host
                                            length:wrapped
                                           options:MTLResourceStorageModeShared
                                       deallocator:nil];
    }
    if (buffer == nil) {
      buffer = [rt.device newBufferWithLength:std::max<std::uint64_t>(length, 16) options:MTLResourceStorageModeShared];
      if (buffer == nil) Fail(ErrorCode::kOom, "Metal could not allocate a staging buffer of " + std::to_string(length) + " bytes");
      if (length > 0) std::memcpy([buffer contents], host, length);
      bindings->staged.push_back({host, length, buffer, outputs.count(host) != 0});
    }
    byPointer.emplace(host, buffer);
    bindings->buffers[i] = buffer;
  }

  // Every pipeline first (an evicted one is rebuilt, which may throw), so nothing throws
  // while the encoder is open but the launch checks and allocations below.
  std::vector<id<MTLComputePipelineState>> pipelines(plan.launches.size());
  std::vector<const std::string*> kernelNames(plan.launches.size(), nullptr);
  for (std::size_t i = 0; i < plan.launches.size(); ++i) {
    pipelines[i] = rt.Resident(plan.launches[i].kernel, &kernelNames[i]);
  }
  id<MTLComputeCommandEncoder> encoder = [commandBuffer computeCommandEncoder];
  if (encoder == nil) Fail(ErrorCode::kGpu, "Metal gave no compute command encoder");
  // Ended on every way out, a launch check's exception too (Metal asserts when a command
  // buffer is freed with an encoder still open).
  const EncoderScope encoding{encoder};
  std::vector<std::int64_t> argBlock;  // one launch's args block as bound, reused
  for (std::size_t li = 0; li < plan.launches.size(); ++li) {
    const Launch& launch = plan.launches[li];
    const std::string* kernelName = kernelNames[li];
    id<MTLComputePipelineState> pipeline = pipelines[li];
    const NSUInteger maxThreads = pipeline.maxTotalThreadsPerThreadgroup;
    const std::uint32_t* grid = launch.grid;
    const std::uint32_t* group = launch.group;
    if (grid[0] == 0 || grid[1] == 0 || grid[2] == 0) continue;  // no work: skipped
    const std::uint64_t threads = static_cast<std::uint64_t>(group[0]) * group[1] * group[2];
    const std::string where = "kernel " + *kernelName + " (grid " + SizeText(grid) + " threadgroups of " +
                              SizeText(group) + " threads)";
    if (threads == 0 || threads > maxThreads) {
      Fail(ErrorCode::kKernel, where + ": " + std::to_string(threads) +
                                   " threads per threadgroup, but this pipeline allows 1.." + std::to_string(maxThreads));
    }
    const std::uint64_t sharedTotal =
        static_cast<std::uint64_t>(launch.sharedBytes) + pipeline.staticThreadgroupMemoryLength;
    if (sharedTotal > rt.info.threadgroupMemoryBytes) {
      Fail(ErrorCode::kKernel, where + ": needs " + std::to_string(sharedTotal) +
                                   " bytes of threadgroup memory; the device has " +
                                   std::to_string(rt.info.threadgroupMemoryBytes));
    }
    if (!summary->empty()) *summary += "; ";
    *summary += where;
    [encoder setComputePipelineState:pipeline];
    for (std::size_t b = 0; b < launch.bufferCount; ++b) {
      [encoder setBuffer:bindings->buffers[launch.firstBuffer + b] offset:0 atIndex:b];
    }
    id<MTLBuffer> scratch = rt.ScratchOf(launch.scratchBytes);
    bindings->argBuffers.push_back(scratch);  // kept alive with the command buffer
    [encoder setBuffer:scratch offset:0 atIndex:launch.bufferCount];
    const NSUInteger argIndex = launch.bufferCount + 1;
    const std::uint8_t* argBase = reinterpret_cast<const std::uint8_t*>(plan.args.data()) + launch.argOffset;
    // The args block as bound: the launch's words (at least one: kernels declare one),
    // then one more word, the pass index of an ordered-pass dispatch and 0 otherwise, so
    // a kernel that declares the pass word is never bound shorter than it declares.
    const std::size_t argWords = std::max<std::size_t>(1, launch.argBytes / sizeof(std::int64_t));
    argBlock.assign(argWords + 1, 0);
    if (launch.argBytes > 0) std::memcpy(argBlock.data(), argBase, launch.argBytes);
    const std::size_t blockBytes = argBlock.size() * sizeof(std::int64_t);
    // Binds the args block (setBytes up to kInlineArgBytes, a buffer beyond).
    const auto bindArgs = [&]() {
      if (blockBytes <= kInlineArgBytes) {
        [encoder setBytes:argBlock.data() length:blockBytes atIndex:argIndex];
        return;
      }
      id<MTLBuffer> argBuffer = [rt.device newBufferWithLength:blockBytes options:MTLResourceStorageModeShared];
      if (argBuffer == nil) Fail(ErrorCode::kOom, where + ": could not allocate its argument buffer");
      std::memcpy([argBuffer contents], argBlock.data(), blockBytes);
      bindings->argBuffers.push_back(argBuffer);
      [encoder setBuffer:argBuffer offset:0 atIndex:argIndex];
    };
    if (launch.sharedBytes > 0) {
      // The length must be a multiple of 16 bytes.
      [encoder setThreadgroupMemoryLength:(launch.sharedBytes + 15u) / 16u * 16u atIndex:0];
    }
    const MTLSize threadsPerGroup = MTLSizeMake(group[0], group[1], group[2]);
    if (launch.scratchBytes > 0 && grid[1] == 1 && grid[2] > 1) {
      // An ordered-pass kernel (metal_runtime.h): grid[2] dispatches over (gridX, 1, 1),
      // in order, each told its pass index.
      for (std::uint32_t pass = 0; pass < grid[2]; ++pass) {
        argBlock[argWords] = static_cast<std::int64_t>(pass);
        bindArgs();
        [encoder dispatchThreadgroups:MTLSizeMake(grid[0], 1, 1) threadsPerThreadgroup:threadsPerGroup];
      }
      continue;
    }
    bindArgs();
    [encoder dispatchThreadgroups:MTLSizeMake(grid[0], grid[1], grid[2]) threadsPerThreadgroup:threadsPerGroup];
    if (launch.scratchBytes > 0 && grid[1] > 1) {
      // A split reduction's fold (metal_runtime.h): same pipeline, bindings and scratch.
      [encoder dispatchThreadgroups:MTLSizeMake(grid[0], 1, 2) threadsPerThreadgroup:threadsPerGroup];
    }
  }
  return bindings;
}

namespace {

// "" for a completed command buffer, else Metal's error with the launches it held.
std::string Outcome(id<MTLCommandBuffer> commandBuffer, const std::string& summary) {
  if (commandBuffer.status == MTLCommandBufferStatusCompleted) return "";
  return "Metal command buffer failed (" + Describe(commandBuffer.error) + ") running: " + summary;
}

}  // namespace

double Runtime::Run(const std::shared_ptr<PreparedGpuPlan>& plan) {
  return WithAutoreleasePool([&]() {
    id<MTLCommandBuffer> commandBuffer = [impl_->queue commandBuffer];
    if (commandBuffer == nil) Fail(ErrorCode::kGpu, "Metal gave no command buffer");
    std::string summary;
    const std::shared_ptr<Bindings> bindings = impl_->Encode(*plan, commandBuffer, &summary);
    [commandBuffer commit];
    [commandBuffer waitUntilCompleted];
    bindings->CopyBack();
    const std::string error = Outcome(commandBuffer, summary);
    if (!error.empty()) Fail(ErrorCode::kGpu, error);
    return (commandBuffer.GPUEndTime - commandBuffer.GPUStartTime) * 1000.0;
  });
}

void Runtime::RunAsync(const std::shared_ptr<PreparedGpuPlan>& plan, std::function<void(const std::string&)> done) {
  return WithAutoreleasePool([&]() {
    id<MTLCommandBuffer> commandBuffer = [impl_->queue commandBuffer];
    if (commandBuffer == nil) Fail(ErrorCode::kGpu, "Metal gave no command buffer");
    auto summary = std::make_shared<std::string>();
    std::shared_ptr<Bindings> bindings = impl_->Encode(*plan, commandBuffer, summary.get());
    // The block keeps the plan (its pins), the bindings (the wrapped buffers) and the
    // callback alive until Metal has finished with them. Registered before the commit.
    // Locals of this scope, so the block copies them (not references into the caller).
    std::shared_ptr<PreparedGpuPlan> keep = plan;
    std::function<void(const std::string&)> callback = done;
    [commandBuffer addCompletedHandler:^(id<MTLCommandBuffer> finished) {
      // A Metal thread: nothing may be thrown out of here.
      @autoreleasepool {
        std::string error;
        try {
          bindings->CopyBack();
          error = Outcome(finished, *summary);
        } catch (const std::exception& e) {
          error = std::string("Metal completion failed: ") + e.what();
        } catch (...) {
          error = "Metal completion failed";
        }
        (void)keep;
        try {
          callback(error);
        } catch (...) {  // the callback only queues a call to JS; it has no error to report
        }
      }
    }];
    [commandBuffer commit];
  });
}

}  // namespace ma::metal
