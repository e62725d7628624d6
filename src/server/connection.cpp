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

namespace specfuse::server {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// When the connection that this worker thread serves was accepted.
thread_local Clock::time_point accepted_at;

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

// A connection's socket with a deadline for reading the current request, and a read
// buffer that lives as long as the connection (pipelined bytes stay for the next request).
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(socket_t sock, microseconds write_timeout)
      : sock_(sock), write_timeout_(write_timeout) {}

  void StartRequest(Clock::time_point deadline) {
    deadline_ = deadline;
    stop_ = ReadStop::kNone;
  }
  bool Buffered() const { return begin_ < end_; }
  ReadStop stop() const { return stop_; }
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
    std::memcpy(ptr, buffer_.data() + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
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
  ReadStop stop_ = ReadStop::kNone;
  bool close_ = false;
  std::array<char, 4096> buffer_;
  size_t begin_ = 0, end_ = 0;
};

thread_local DeadlineStream* current_stream = nullptr;

// Makes the stream this thread serves known to CurrentReadStop().
class CurrentStream {
 public:
  explicit CurrentStream(DeadlineStream* s) { current_stream = s; }
  ~CurrentStream() { current_stream = nullptr; }
  CurrentStream(const CurrentStream&) = delete;
  CurrentStream& operator=(const CurrentStream&) = delete;
};

// httplib's pool, noting when each connection was accepted.
class AcceptTimedPool final : public httplib::ThreadPool {
 public:
  explicit AcceptTimedPool(size_t threads) : ThreadPool(threads) {}
  void enqueue(std::function<void()> fn) override {
    ThreadPool::enqueue([fn = std::move(fn), at = Clock::now()] {
      accepted_at = at;
      fn();
    });
  }
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

// Closing a socket with unread input resets the connection, and the client may lose the
// response it has not read yet. A connection closed mid-request first ends its output,
// then reads (and drops) what the client still sends for a moment.
void Linger(socket_t sock) {
  ::shutdown(sock, SHUT_WR);
  const auto until = Clock::now() + milliseconds(200);
  std::array<char, 4096> sink;
  size_t dropped = 0;
  while (dropped < (1 << 20) && PollUntil(sock, POLLIN, until)) {
    const ssize_t n = ::recv(sock, sink.data(), sink.size(), 0);
    if (n <= 0) return;
    dropped += static_cast<size_t>(n);
  }
}

}  // namespace

ConnectionServer::ConnectionServer(size_t threads) {
  new_task_queue = [threads] { return new AcceptTimedPool(threads); };
}

ReadStop ConnectionServer::CurrentReadStop() {
  return current_stream ? current_stream->stop() : ReadStop::kNone;
}

void ConnectionServer::CloseAfterThisRequest() {
  if (current_stream) current_stream->RequestClose();
}

bool ConnectionServer::process_and_close_socket(socket_t sock) {
  const auto read_timeout = seconds(read_timeout_sec_) + microseconds(read_timeout_usec_);
  DeadlineStream strm(sock, seconds(write_timeout_sec_) + microseconds(write_timeout_usec_));
  CurrentStream current(&strm);
  bool ok = false;
  Clock::time_point idle_until = accepted_at + read_timeout;
  for (size_t n = 0; n < keep_alive_max_count_ && RequestArrives(strm, svr_sock_, idle_until); ++n) {
    strm.StartRequest(Clock::now() + read_timeout);
    bool closed = false;
    ok = process_request(strm, n + 1 == keep_alive_max_count_, closed, nullptr);
    if (!ok || closed || strm.Finished()) break;
    idle_until = Clock::now() + seconds(keep_alive_timeout_sec_);
  }
  if (strm.Finished() && strm.stop() != ReadStop::kClosed) Linger(sock);
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace specfuse::server
