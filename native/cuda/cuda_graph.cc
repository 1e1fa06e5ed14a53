// CUDA graphs for compile's replays: a stored plan's launches are captured once from
// the stream (cuStreamBeginCapture .. cuStreamEndCapture) and instantiated; a replay is
// device-to-device copies of the inputs into the graph's fixed buffers, one
// cuGraphLaunch, copies of the outputs into fresh buffers, and one stream wait.
#include <string>

#include "../common/errors.h"
#include "cuda_runtime.h"

namespace ma::cuda {

GraphRecord::~GraphRecord() {
  if (api == nullptr) return;
  if (exec != nullptr) api->cuGraphExecDestroy(exec);
  if (graph != nullptr) api->cuGraphDestroy(graph);
}

std::string Runtime::GraphSupport() {
  const std::string why = Probe();
  if (!why.empty()) return why;
  if (!api_->graphs) return "the NVIDIA driver has no CUDA graph entry points (cuGraphInstantiateWithFlags needs driver 11.4 or later)";
  return "";
}

// Call with graphMu_ held and nothing of `g` in flight.
void Runtime::Capture(GraphRecord& g) {
  if (g.exec != nullptr) api_->cuGraphExecDestroy(g.exec);
  if (g.graph != nullptr) api_->cuGraphDestroy(g.graph);
  g.exec = nullptr;
  g.graph = nullptr;
  g.plan.reset();
  // Prepare validates and may grow the scratch (which drains the stream) before capture starts.
  g.plan = std::make_unique<Plan>(Prepare(g.commands.data(), g.commands.size(), g.args.data(), g.args.size()));
  Check(api_->cuStreamBeginCapture(stream_, kCaptureModeThreadLocal), "cuStreamBeginCapture");
  try {
    Issue(*g.plan);
  } catch (...) {
    CUgraph broken = nullptr;
    api_->cuStreamEndCapture(stream_, &broken);  // ends the capture; its result is the error already thrown
    if (broken != nullptr) api_->cuGraphDestroy(broken);
    throw;
  }
  CUgraph graph = nullptr;
  Check(api_->cuStreamEndCapture(stream_, &graph), "cuStreamEndCapture");
  g.graph = graph;
  CUgraphExec exec = nullptr;
  Check(api_->cuGraphInstantiateWithFlags(&exec, graph, 0), "cuGraphInstantiate");
  g.exec = exec;
  g.scratchAtCapture = scratch_;
}

std::uint32_t Runtime::CreateGraph(const std::int32_t* commands, std::size_t nCommands, const std::int64_t* args,
                                   std::size_t nArgs) {
  const std::string why = GraphSupport();
  if (!why.empty()) Fail(ErrorCode::kGpu, "CUDA graphs are unavailable: " + why);
  MakeCurrent();
  auto g = std::make_unique<GraphRecord>();
  g->api = api_;
  g->commands.assign(commands, commands + nCommands);
  g->args.assign(args, args + nArgs);
  std::lock_guard<std::mutex> lock(graphMu_);
  Capture(*g);
  const std::uint32_t id = nextGraphId_++;
  graphs_.emplace(id, std::move(g));
  return id;
}

// Issues a device-to-device copy for each (source, destination) pair of ids.
void Runtime::CopyPairs(const std::int32_t* pairs, std::size_t n, const char* what) {
  if (n % 2 != 0) Fail(ErrorCode::kBadArgument, std::string(what) + " copies must be (source id, destination id) pairs");
  for (std::size_t i = 0; i < n; i += 2) {
    CUdeviceptr src = 0;
    CUdeviceptr dst = 0;
    std::uint64_t bytes = 0;
    {
      std::lock_guard<std::mutex> lock(memMu_);
      const Block* s = Find(pairs[i]);
      const Block* d = Find(pairs[i + 1]);
      if (s == nullptr || d == nullptr) {
        Fail(ErrorCode::kBadBuffer, std::string("unknown or already freed CUDA buffer id ") + std::to_string(s == nullptr ? pairs[i] : pairs[i + 1]) +
                                        " in a graph replay's " + what + " copies");
      }
      if (s->bytes < d->bytes) {
        Fail(ErrorCode::kBadArgument, std::string("a graph replay's ") + what + " copy reads " + std::to_string(d->bytes) +
                                          " bytes from a buffer of " + std::to_string(s->bytes));
      }
      src = s->ptr;
      dst = d->ptr;
      bytes = d->bytes;
    }
    if (bytes > 0) Check(api_->cuMemcpyDtoDAsync(dst, src, static_cast<std::size_t>(bytes), stream_), "cuMemcpyDtoDAsync (graph replay)");
  }
}

void Runtime::ReplayGraph(std::uint32_t id, const std::int32_t* before, std::size_t nBefore, const std::int32_t* after,
                          std::size_t nAfter) {
  MakeCurrent();
  std::lock_guard<std::mutex> lock(graphMu_);
  auto it = graphs_.find(id);
  if (it == graphs_.end()) Fail(ErrorCode::kBadArgument, "unknown or destroyed CUDA graph id " + std::to_string(id));
  GraphRecord& g = *it->second;
  if (g.scratchAtCapture != scratch_) {
    // Another plan regrew the scratch (freeing the one baked into the graph): record again.
    Synchronize(nullptr);
    Capture(g);
  }
  try {
    CopyPairs(before, nBefore, "input");
    Check(api_->cuGraphLaunch(g.exec, stream_), "cuGraphLaunch");
    CopyPairs(after, nAfter, "output");
  } catch (...) {
    Synchronize(nullptr);  // nothing issued may still be running when the caller frees buffers
    throw;
  }
  Synchronize(g.plan.get());
}

bool Runtime::DestroyGraph(std::uint32_t id) {
  std::unique_ptr<GraphRecord> g;
  {
    std::lock_guard<std::mutex> lock(graphMu_);
    auto it = graphs_.find(id);
    if (it == graphs_.end()) return false;
    g = std::move(it->second);
    graphs_.erase(it);
  }
  MakeCurrent();
  Synchronize(nullptr);  // its launches and args copies may still be in flight
  return true;
}

}  // namespace ma::cuda
