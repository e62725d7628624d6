#include "backends/llama/llama_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unordered_set>

#include <gguf.h>

#include "backends/llama/llama_sequence.h"

namespace specfuse {
namespace llama {

namespace {

// Every occurrence of `from` in text replaced by `to` (text unchanged when from is empty).
std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// A string that no message contains, to stand for NUL; "" when no message holds a NUL.
std::string NulMarker(const std::vector<ChatMessage>& messages) {
  auto has = [&](const std::string& s) {
    return std::any_of(messages.begin(), messages.end(),
                       [&](const ChatMessage& m) { return m.content.find(s) != std::string::npos; });
  };
  if (!has(std::string(1, '\0'))) return "";
  for (int i = 0;; ++i) {
    std::string marker = "\x1fspecfuse-nul-" + std::to_string(i) + "\x1f";
    if (!has(marker)) return marker;
  }
}

std::mutex g_log_mutex;
std::string g_last_error;
bool g_verbose = false;

void LogCallback(ggml_log_level level, const char* text, void* /*user*/) {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  if (level == GGML_LOG_LEVEL_ERROR) {
    g_last_error = text;
    while (!g_last_error.empty() && (g_last_error.back() == '\n' || g_last_error.back() == ' ')) {
      g_last_error.pop_back();
    }
  }
  if (g_verbose) std::fputs(text, stderr);
}

// Reads a GGUF file's metadata (not its tensors) and rejects what llama.cpp's loader
// would abort the process on instead of returning an error: a layer count outside
// 1..512 and a vocabulary that spells two tokens the same (found by fuzzing).
Status CheckGgufMetadata(const std::string& path) {
  gguf_init_params params = {/*no_alloc=*/true, /*ctx=*/nullptr};
  gguf_context* g = gguf_init_from_file(path.c_str(), params);
  if (g == nullptr) {
    return Status::Error(ErrorCode::kInvalidModel,
                         "cannot load '" + path + "': its GGUF metadata is truncated or corrupt");
  }
  auto invalid = [&](const std::string& why) {
    gguf_free(g);
    return Status::Error(ErrorCode::kInvalidModel, "cannot load '" + path + "': " + why);
  };
  int64_t arch_key = gguf_find_key(g, "general.architecture");
  if (arch_key >= 0 && gguf_get_kv_type(g, arch_key) == GGUF_TYPE_STRING) {
    std::string key = std::string(gguf_get_val_str(g, arch_key)) + ".block_count";
    int64_t blocks = gguf_find_key(g, key.c_str());
    if (blocks >= 0) {
      int64_t n = -1;
      switch (gguf_get_kv_type(g, blocks)) {
        case GGUF_TYPE_UINT32: n = gguf_get_val_u32(g, blocks); break;
        case GGUF_TYPE_INT32: n = gguf_get_val_i32(g, blocks); break;
        case GGUF_TYPE_UINT64: n = static_cast<int64_t>(std::min<uint64_t>(gguf_get_val_u64(g, blocks), 1u << 20)); break;
        default: break;
      }
      if (n < 1 || n > 512) {
        return invalid(key + " is " + std::to_string(n) + ", outside 1..512: the file is corrupt");
      }
    }
  }
  int64_t tokens = gguf_find_key(g, "tokenizer.ggml.tokens");
  if (tokens >= 0 && gguf_get_kv_type(g, tokens) == GGUF_TYPE_ARRAY &&
      gguf_get_arr_type(g, tokens) == GGUF_TYPE_STRING) {
    size_t n = gguf_get_arr_n(g, tokens);
    std::unordered_set<std::string_view> seen;
    seen.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (!seen.insert(gguf_get_arr_str(g, tokens, i)).second) {
        return invalid("its vocabulary lists the token '" + std::string(gguf_get_arr_str(g, tokens, i)) +
                       "' twice: the file is corrupt");
      }
    }
  }
  gguf_free(g);
  return Status::Ok();
}

// The first bytes of a file, to tell "not GGUF" from "broken GGUF" before llama.cpp tries.
Status CheckGgufFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::Error(ErrorCode::kNotFound,
                         "model file '" + path + "' does not exist; check the path");
  }
  if (std::filesystem::is_directory(path, ec)) {
    return Status::Error(ErrorCode::kInvalidModel,
                         "model path '" + path + "' is a directory; give the .gguf file inside it");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::Error(ErrorCode::kNotFound, "model file '" + path + "' cannot be opened");
  }
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  if (in.gcount() < 4 || std::memcmp(magic, "GGUF", 4) != 0) {
    return Status::Error(ErrorCode::kInvalidModel,
                         "'" + path + "' is not a GGUF model file (it does not start with 'GGUF'); "
                         "convert the model to GGUF or pass the right file");
  }
  return CheckGgufMetadata(path);
}

}  // namespace

void InstallLlamaLogger() {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(LogCallback, nullptr);
    llama_backend_init();
  });
}

std::string TakeLastLlamaError() {
  std::lock_guard<std::mutex> lock(g_log_mutex);
  std::string e = std::move(g_last_error);
  g_last_error.clear();
  return e;
}

LlamaModel::LlamaModel(LlamaModelOptions options, llama_model* model, llama_context* ctx)
    : options_(std::move(options)), model_(model), ctx_(ctx), vocab_(llama_model_get_vocab(model)) {
  n_vocab_ = llama_vocab_n_tokens(vocab_);
  n_batch_ = static_cast<int>(llama_n_batch(ctx_));
  seq_used_.assign(llama_n_seq_max(ctx_), false);
  batcher_ = std::make_unique<DecodeBatcher>(ctx_, mutex_, static_cast<int>(llama_n_ubatch(ctx_)),
                                             n_batch_, n_vocab_, options_.batch_wait_us);
  if (!options_.chat_template.empty()) {
    template_ = options_.chat_template;
  } else if (const char* t = llama_model_chat_template(model_, nullptr)) {
    template_ = t;
  }
}

DecodeCounters LlamaModel::decode_counters() const { return batcher_->counters(); }

LlamaModel::~LlamaModel() {
  batcher_.reset();
  llama_free(ctx_);
  llama_model_free(model_);
}

Result<std::string> LlamaModel::RenderChat(const std::vector<ChatMessage>& messages) const {
  if (template_.empty()) {
    // No template in the GGUF and none configured: a plain transcript the model can continue.
    std::string out;
    for (const auto& m : messages) {
      if (m.role == "system") out += m.content + "\n\n";
      else if (m.role == "user") out += "User: " + m.content + "\n";
      else out += "Assistant: " + m.content + "\n";
    }
    out += "Assistant:";
    return out;
  }
  // llama_chat_apply_template takes C strings, which end at a NUL: a NUL inside a message
  // passes through the template as a marker found nowhere else, and is put back after.
  const std::string nul = NulMarker(messages);
  std::vector<std::string> contents;
  contents.reserve(messages.size());
  for (const auto& m : messages) contents.push_back(ReplaceAll(m.content, std::string(1, '\0'), nul));
  std::vector<llama_chat_message> chat;
  chat.reserve(messages.size());
  size_t total = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    chat.push_back({messages[i].role.c_str(), contents[i].c_str()});
    total += messages[i].role.size() + contents[i].size();
  }
  std::vector<char> buf(2 * total + 1024);
  int n = llama_chat_apply_template(template_.c_str(), chat.data(), chat.size(), true, buf.data(),
                                    static_cast<int32_t>(buf.size()));
  if (n > static_cast<int>(buf.size())) {
    buf.resize(n + 1);
    n = llama_chat_apply_template(template_.c_str(), chat.data(), chat.size(), true, buf.data(),
                                  static_cast<int32_t>(buf.size()));
  }
  if (n < 0) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "model '" + name() + "': its chat template is not one llama.cpp knows; set "
                         "chat_template to a known name (chatml, gemma, llama3, ...)");
  }
  return ReplaceAll(std::string(buf.data(), n), nul, std::string(1, '\0'));
}

std::vector<llama_token> LlamaModel::Tokenize(const std::string& text, bool with_special) const {
  std::vector<llama_token> ids(text.size() + 8);
  int n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), ids.data(),
                         static_cast<int32_t>(ids.size()), with_special, with_special);
  if (n < 0) {
    ids.resize(-n);
    n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), ids.data(),
                       static_cast<int32_t>(ids.size()), with_special, with_special);
  }
  ids.resize(std::max(n, 0));
  return ids;
}

std::string LlamaModel::Piece(llama_token token, bool special) const {
  char buf[256];
  int n = llama_token_to_piece(vocab_, token, buf, sizeof(buf), 0, special);
  if (n < 0) {
    std::string big(-n, '\0');
    n = llama_token_to_piece(vocab_, token, big.data(), -n, 0, special);
    big.resize(std::max(n, 0));
    return big;
  }
  return std::string(buf, n);
}

bool LlamaModel::IsEndOfGeneration(llama_token token) const {
  return llama_vocab_is_eog(vocab_, token);
}

float LlamaModel::EndOfGenerationLogprob(const float* logits, float log_z) const {
  float best = -INFINITY;
  for (llama_token t : {llama_vocab_eos(vocab_), llama_vocab_eot(vocab_)}) {
    if (t >= 0 && t < n_vocab_) best = std::max(best, logits[t] - log_z);
  }
  return best;
}

int LlamaModel::AcquireSeq() {
  for (int i = 0; i < options_.max_sequences; ++i) {
    if (!seq_used_[i]) {
      seq_used_[i] = true;
      return i;
    }
  }
  return -1;
}

std::vector<int> LlamaModel::AcquireScratch(std::unique_lock<std::mutex>& lock, int want) {
  std::vector<int> got;
  for (;;) {
    for (size_t i = options_.max_sequences; i < seq_used_.size() && static_cast<int>(got.size()) < want; ++i) {
      if (!seq_used_[i]) {
        seq_used_[i] = true;
        got.push_back(static_cast<int>(i));
      }
    }
    if (!got.empty() || want <= 0) return got;
    // Every scratch id is lent to a concurrent scorer, which gives them back after one decode.
    scratch_freed_.wait(lock);
  }
}

void LlamaModel::ReleaseSeq(int seq) {
  llama_memory_seq_rm(llama_get_memory(ctx_), seq, -1, -1);
  seq_used_[seq] = false;
  if (seq >= options_.max_sequences) scratch_freed_.notify_all();
}

Status LlamaModel::Prefill(int seq, const std::vector<llama_token>& ids, size_t begin, size_t end,
                           int pos0) {
  DecodeJob job;
  for (size_t at = begin; at < end; at += n_batch_) {
    size_t stop = std::min(end, at + static_cast<size_t>(n_batch_));
    job.Clear();
    for (size_t i = at; i < stop; ++i) {
      job.Add(ids[i], pos0 + static_cast<int>(i - begin), seq, false);
    }
    int rc = Decode(job);
    if (rc != 0) return DecodeError(rc, "decoding the context");
  }
  return Status::Ok();
}

Status LlamaModel::DecodeError(int rc, const std::string& what) const {
  return Status::Error(rc == 1 ? ErrorCode::kContextOverflow : ErrorCode::kInternal,
                       "model '" + name() + "': " + what + " failed (llama_decode returned " +
                           std::to_string(rc) + (rc == 1 ? ", the KV cache is full" : "") + ")");
}

Result<std::unique_ptr<Sequence>> LlamaModel::Start(const std::vector<ChatMessage>& messages,
                                                    const SamplingOptions& sampling) {
  if (messages.empty()) {
    return Status::Error(ErrorCode::kInvalidArgument, "a query needs at least one message");
  }
  auto prompt = RenderChat(messages);
  if (!prompt.ok()) return prompt.status();
  return StartTokens(Tokenize(*prompt, true), sampling);
}

Result<std::unique_ptr<Sequence>> LlamaModel::StartText(const std::string& prompt,
                                                        const SamplingOptions& sampling) {
  return StartTokens(Tokenize(prompt, true), sampling);
}

Result<std::unique_ptr<Sequence>> LlamaModel::StartTokens(std::vector<llama_token> ids,
                                                          const SamplingOptions& sampling) {
  if (ids.empty()) {
    return Status::Error(ErrorCode::kInvalidArgument, "the prompt is empty");
  }
  if (static_cast<int>(ids.size()) >= options_.context_size) {
    return Status::Error(ErrorCode::kContextOverflow,
                         "the prompt is " + std::to_string(ids.size()) + " tokens for model '" +
                             name() + "', which holds " + std::to_string(options_.context_size) +
                             " per query; shorten the prompt or raise the context size");
  }
  std::unique_ptr<GrammarConstraint> grammar;
  if (!sampling.grammar.empty()) {
    auto made = GrammarConstraint::Create(vocab_, sampling.grammar);
    if (!made.ok()) return made.status();
    grammar = std::move(made).value();
  }
  int seq;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    seq = AcquireSeq();
  }
  if (seq < 0) {
    return Status::Error(ErrorCode::kUnavailable,
                         "model '" + name() + "' is serving its maximum of " +
                             std::to_string(options_.max_sequences) + " queries");
  }
  // From here the sequence owns seq and gives it back when destroyed.
  auto sequence = std::make_unique<LlamaSequence>(shared_from_this(), seq, sampling,
                                                  std::move(grammar));
  Status s = sequence->PrefillPrompt(std::move(ids));
  if (!s.ok()) return s;
  return std::unique_ptr<Sequence>(std::move(sequence));
}

}  // namespace llama

void SetLlamaVerbose(bool verbose) {
  std::lock_guard<std::mutex> lock(llama::g_log_mutex);
  llama::g_verbose = verbose;
}

Result<std::shared_ptr<Model>> LoadLlamaModel(const LlamaModelOptions& options_in) {
  llama::InstallLlamaLogger();
  LlamaModelOptions options = options_in;
  if (options.name.empty()) {
    options.name = std::filesystem::path(options.path).stem().string();
  }
  if (options.context_size < 16 || options.max_sequences < 1 || options.max_candidates < 1) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "context_size must be >= 16, max_sequences and max_candidates >= 1");
  }
  Status check = llama::CheckGgufFile(options.path);
  if (!check.ok()) return check;

  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = options.gpu_layers < 0 ? 999 : options.gpu_layers;
  llama::TakeLastLlamaError();
  llama_model* model = llama_model_load_from_file(options.path.c_str(), mp);
  if (model == nullptr) {
    std::string why = llama::TakeLastLlamaError();
    return Status::Error(ErrorCode::kInvalidModel,
                         "cannot load '" + options.path + "': the GGUF file is truncated, corrupt "
                         "or of an unsupported architecture" +
                             (why.empty() ? std::string() : " (llama.cpp: " + why + ")"));
  }
  int train_ctx = llama_model_n_ctx_train(model);
  if (train_ctx > 0 && options.context_size > train_ctx) options.context_size = train_ctx;

  llama_context_params cp = llama_context_default_params();
  // Unified KV: scoring copies a query's prefix to scratch sequences without copying cells.
  cp.kv_unified = true;
  // Full-size sliding-window cache, so a rejected draft can always be rolled back.
  cp.swa_full = true;
  cp.n_seq_max = static_cast<uint32_t>(options.max_sequences + options.max_candidates);
  cp.n_ctx = static_cast<uint32_t>(options.context_size * options.max_sequences +
                                   options.max_candidates * 256);
  cp.n_batch = 1024;
  cp.n_ubatch = 512;
  int threads = options.threads > 0 ? options.threads
                                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.no_perf = true;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (ctx == nullptr) {
    std::string why = llama::TakeLastLlamaError();
    llama_model_free(model);
    return Status::Error(ErrorCode::kInternal,
                         "cannot create a context for '" + options.path + "'" +
                             (why.empty() ? std::string() : " (llama.cpp: " + why + ")"));
  }
  return std::shared_ptr<Model>(std::make_shared<llama::LlamaModel>(options, model, ctx));
}

}  // namespace specfuse
