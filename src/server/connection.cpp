#include "server/connection.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace specfuse::server {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// True when sock is ready for events before `until` (at once when it is already ready).
bool PollUntil(socket_t sock, short events, Clock::time_point until) {
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
    pollfd p{sock, events, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30)));
    if (ready < 0 && errno == EINTR) continue;
    return ready > 0;
  }
}

// False once the peer has closed its end (it is readable and a peek reads nothing).
bool PeerOpen(socket_t sock) {
  pollfd p{sock, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return true;
  char byte;
  return ::recv(sock, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

void Address(socket_t sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  auto* a = reinterpret_cast<sockaddr*>(&addr);
  if ((peer ? ::getpeername(sock, a, &len) : ::getsockname(sock, a, &len)) != 0) return;
  char host[NI_MAXHOST], service[NI_MAXSERV];
  if (::getnameinfo(a, len, host, sizeof host, service, sizeof service,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host;
    port = std::atoi(service);
  }
}

// Follows a request's head as httplib reads it (a byte at a time), up to the blank line
// that ends it, and tells when it passes the limits.
class HeadCounter {
 public:
  explicit HeadCounter(const ConnectionLimits& limits)
      : max_lines_(limits.max_header_lines), max_bytes_(limits.max_header_bytes) {}

  void Start() {
    bytes_ = lines_ = line_length_ = 0;
    done_ = false;
  }
  bool done() const { return done_; }
  // Whether nothing but the request line has been read (it is still being read).
  bool InRequestLine() const { return lines_ == 0; }
  // Follows the next n bytes; false once the head is over a limit.
  bool Take(const char* data, size_t n) {
    for (size_t i = 0; i < n && !done_; ++i) {
      ++bytes_;
      ++line_length_;
      if (data[i] == '\n') {
        // httplib ends the head at the first "\r\n" line after the request line.
        if (lines_ > 0 && line_length_ == 2 && last_ == '\r') {
          done_ = true;
        } else if (++lines_ > max_lines_ + 1) {
          return false;  // the request line and max_lines_ header lines are allowed
        }
        line_length_ = 0;
      }
      last_ = data[i];
      if (bytes_ > max_bytes_) return false;
    }
    return true;
  }

 private:
  const size_t max_lines_, max_bytes_;
  size_t bytes_ = 0, lines_ = 0, line_length_ = 0;
  char last_ = 0;
  bool done_ = false;
};

// A connection's socket with a deadline for reading the current request, and a read
// buffer that lives as long as the connection (pipelined bytes stay for the next request).
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(socket_t sock, microseconds write_timeout, const ConnectionLimits& limits)
      : sock_(sock), write_timeout_(write_timeout), head_(limits) {}

  void StartRequest(Clock::time_point deadline) {
    deadline_ = deadline;
    stop_ = ReadStop::kNone;
    head_.Start();
    wrote_ = sent_ = false;
  }
  bool Buffered() const { return begin_ < end_; }
  ReadStop stop() const { return stop_; }
  // Whether writing the current request's response has been tried, and whether any of it
  // reached the socket.
  bool wrote() const { return wrote_; }
  bool sent() const { return sent_; }
  bool InRequestLine() const { return head_.InRequestLine(); }
  void RequestClose() { close_ = true; }
  // The request was not read to its end, or the client is gone: nothing more to read.
  bool Finished() const { return close_ || stop_ != ReadStop::kNone; }

  bool is_readable() const override { return Buffered() || PollUntil(sock_, POLLIN, deadline_); }
  bool is_writable() const override {
    return PollUntil(sock_, POLLOUT, Clock::now() + write_timeout_) && PeerOpen(sock_);
  }
  ssize_t read(char* ptr, size_t size) override {
    if (!Buffered()) {
      const ssize_t filled = Fill();
      if (filled <= 0) return filled;
    }
    const size_t n = std::min(size, end_ - begin_);
    if (!head_.done() && !head_.Take(buffer_.data() + begin_, n)) {
      stop_ = ReadStop::kHeadTooLarge;
      return -1;
    }
    std::memcpy(ptr, buffer_.data() + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    wrote_ = true;
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n > 0) sent_ = true;
    return n;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    Address(sock_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    Address(sock_, false, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  // Reads what has arrived into the buffer: > 0 bytes, 0 at the end of the stream, -1 when
  // the deadline passed or the connection failed.
  ssize_t Fill() {
    if (!PollUntil(sock_, POLLIN, deadline_)) {
      stop_ = ReadStop::kDeadline;
      return -1;
    }
    ssize_t n;
    do {
      n = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      stop_ = ReadStop::kClosed;
      return n < 0 ? -1 : 0;
    }
    begin_ = 0;
    end_ = static_cast<size_t>(n);
    return n;
  }

  const socket_t sock_;
  const microseconds write_timeout_;
  Clock::time_point deadline_;
  HeadCounter head_;
  ReadStop stop_ = ReadStop::kNone;
  bool close_ = false, wrote_ = false, sent_ = false;
  std::array<char, 4096> buffer_;
  size_t begin_ = 0, end_ = 0;
};

thread_local DeadlineStream* current_stream = nullptr;
thread_local ConnectionTable* current_table = nullptr;

// Makes the stream this thread serves known to CurrentReadStop() and RequestRead().
class CurrentStream {
 public:
  CurrentStream(DeadlineStream* s, ConnectionTable* t) {
    current_stream = s;
    current_table = t;
  }
  ~CurrentStream() {
    current_stream = nullptr;
    current_table = nullptr;
  }
  CurrentStream(const CurrentStream&) = delete;
  CurrentStream& operator=(const CurrentStream&) = delete;
};

// Waits until a request starts to arrive (true), `until` passes or the server stops.
bool RequestArrives(const DeadlineStream& strm, const std::atomic<socket_t>& listening,
                    Clock::time_point until) {
  do {
    if (listening == INVALID_SOCKET) return false;
    if (strm.Buffered()) return true;
    if (PollUntil(strm.socket(), POLLIN, std::min(until, Clock::now() + milliseconds(100)))) return true;
  } while (Clock::now() < until);
  return false;
}

// Reads (and drops) what the client has sent, for at most `wait` and 1 MiB; 0: only what
// has already arrived.
void DropInput(socket_t sock, milliseconds wait) {
  const auto until = Clock::now() + wait;
  std::array<char, 4096> sink;
  size_t dropped = 0;
  while (dropped < (1 << 20) && PollUntil(sock, POLLIN, until)) {
    const ssize_t n = ::recv(sock, sink.data(), sink.size(), MSG_DONTWAIT);
    if (n <= 0) return;
    dropped += static_cast<size_t>(n);
  }
}

// Closing a socket with unread input resets the connection, and the client may lose the
// response it has not read yet. A connection closed mid-request first ends its output,
// then reads (and drops) what the client still sends for a moment.
void Linger(socket_t sock) {
  ::shutdown(sock, SHUT_WR);
  DropInput(sock, milliseconds(200));
}

const char* Reason(int status) {
  switch (status) {
    case 414: return "URI Too Long";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

// A whole response to a request that this layer answers itself; the connection closes.
std::string OwnResponse(int status, const std::string& json_body) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) + "\r\n";
  if (status == 503) head += "Retry-After: 1\r\n";
  return head + "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(json_body.size()) + "\r\nConnection: close\r\n\r\n" + json_body;
}

}  // namespace

// The admitted connections, by socket, for the accepting thread to choose which one a new
// connection at the limit takes the place of. A worker removes its connection's entry
// before it closes the socket, so no socket number is reused while its entry is here.
class ConnectionTable {
 public:
  explicit ConnectionTable(const ConnectionLimits& limits)
      : limit_(limits.max_connections), evict_after_(limits.evict_after) {}

  // Admits sock, at the limit in place of the connection idle longest; false: none may go.
  bool Admit(socket_t sock) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (open_.size() >= limit_ && !EvictOne()) return false;
    open_[sock] = Entry{Clock::now(), false};
    return true;
  }
  // Whether sock's request has been read whole and is being answered; when the answer is
  // over, the connection is idle again from now.
  void SetAnswering(socket_t sock, bool answering) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = open_.find(sock);
    if (it == open_.end()) return;  // it was shut down for another
    it->second.answering = answering;
    if (!answering) it->second.idle_since = Clock::now();
  }
  void Remove(socket_t sock) {
    std::lock_guard<std::mutex> lock(mutex_);
    open_.erase(sock);
  }

 private:
  struct Entry {
    Clock::time_point idle_since;  // accepted, or its last response sent
    bool answering;
  };

  // Shuts down the connection idle longest, if one has been idle for evict_after.
  bool EvictOne() {
    auto victim = open_.end();
    const auto cutoff = Clock::now() - evict_after_;
    for (auto it = open_.begin(); it != open_.end(); ++it) {
      if (it->second.answering || it->second.idle_since > cutoff) continue;
      if (victim == open_.end() || it->second.idle_since < victim->second.idle_since) victim = it;
    }
    if (victim == open_.end()) return false;
    ::shutdown(victim->first, SHUT_RDWR);  // its worker's reads end; it closes the socket
    open_.erase(victim);
    return true;
  }

  const size_t limit_;
  const milliseconds evict_after_;
  std::mutex mutex_;
  std::unordered_map<socket_t, Entry> open_;
};

// httplib's pool, whose enqueue runs httplib's task for a new connection at once on the
// accepting thread: that task is process_and_close_socket, which admits the connection
// (and gives it to a worker with Run) or refuses it.
class ConnectionPool final : public httplib::ThreadPool {
 public:
  explicit ConnectionPool(size_t threads) : ThreadPool(threads) {}
  void enqueue(std::function<void()> fn) override { fn(); }
  void Run(std::function<void()> fn) { ThreadPool::enqueue(std::move(fn)); }
};

ConnectionServer::ConnectionServer(ConnectionLimits limits)
    : limits_(limits), table_(std::make_unique<ConnectionTable>(limits_)) {
  new_task_queue = [this] { return pool_ = new ConnectionPool(limits_.max_connections); };
}

ConnectionServer::~ConnectionServer() = default;

bool ConnectionServer::SetListenBacklog(int backlog) {
  return svr_sock_ != INVALID_SOCKET && ::listen(svr_sock_, backlog) == 0;
}

void ConnectionServer::set_own_error_body(std::function<std::string(int)> body) {
  own_error_body_ = std::move(body);
}

ReadStop ConnectionServer::CurrentReadStop() {
  return current_stream ? current_stream->stop() : ReadStop::kNone;
}

bool ConnectionServer::ResponseSent() { return current_stream && current_stream->sent(); }

void ConnectionServer::CloseAfterThisRequest() {
  if (current_stream) current_stream->RequestClose();
}

void ConnectionServer::RequestRead() {
  if (current_stream) current_table->SetAnswering(current_stream->socket(), true);
}

// On the accepting thread (ConnectionPool::enqueue).
bool ConnectionServer::process_and_close_socket(socket_t sock) {
  if (!table_->Admit(sock)) {
    Refuse(sock);
    return false;
  }
  pool_->Run([this, sock, accepted = Clock::now()] { Serve(sock, accepted); });
  return true;
}

// Answers 503 without waiting: the response fits in an empty socket buffer, and what the
// client has already sent is dropped first, so that closing does not reset the connection.
void ConnectionServer::Refuse(socket_t sock) const {
  const std::string response = OwnResponse(503, own_error_body_ ? own_error_body_(503) : "");
  ::send(sock, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(sock, SHUT_WR);
  DropInput(sock, milliseconds(0));
  ::close(sock);
}

void ConnectionServer::Serve(socket_t sock, Clock::time_point accepted) {
  const auto read_timeout = seconds(read_timeout_sec_) + microseconds(read_timeout_usec_);
  DeadlineStream strm(sock, seconds(write_timeout_sec_) + microseconds(write_timeout_usec_), limits_);
  CurrentStream current(&strm, table_.get());
  Clock::time_point idle_until = accepted + read_timeout;
  for (size_t n = 0; n < keep_alive_max_count_ && RequestArrives(strm, svr_sock_, idle_until); ++n) {
    strm.StartRequest(Clock::now() + read_timeout);
    bool closed = false;
    const bool ok = process_request(strm, n + 1 == keep_alive_max_count_, closed, nullptr);
    if (strm.stop() == ReadStop::kHeadTooLarge && !strm.wrote() && strm.InRequestLine()) {
      const std::string response = OwnResponse(414, own_error_body_ ? own_error_body_(414) : "");
      strm.write(response.data(), response.size());  // httplib answers nothing to this
    }
    table_->SetAnswering(sock, false);
    if (!ok || closed || strm.Finished()) break;
    idle_until = Clock::now() + seconds(keep_alive_timeout_sec_);
  }
  if (strm.Finished() && strm.stop() != ReadStop::kClosed) Linger(sock);
  table_->Remove(sock);
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
}

}  // namespace specfuse::server
