#include "cli/serve_command.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

namespace specfuse::cli {

namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "specfuse: error: %s\n", s.message().c_str());
  return 1;
}

}  // namespace

void AddServeFlags(CLI::App* app, ServeFlags* f) {
  AddEnsembleFlags(app, &f->ensemble);
  server::ServerOptions& s = f->server;
  app->add_option("--host", s.host, "Address to listen on (the default: loopback only)")
      ->capture_default_str();
  app->add_option("--port", s.port, "Port to listen on (0 = any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app->add_option("--api-key", s.api_key,
                  "Require 'Authorization: Bearer KEY' on /v1/ endpoints (also $SPECFUSE_API_KEY)")
      ->envname("SPECFUSE_API_KEY");
  app->add_option("--max-concurrent", s.max_concurrent, "Answers running at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app->add_option("--queue", s.queue, "Answers waiting for a slot before 429")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  app->add_option("--allowed-host", s.allowed_hosts,
                  "Also answer requests whose Host header is NAME (any port); repeatable. "
                  "Bound to loopback, only localhost, 127.0.0.1 and [::1] are answered otherwise")
      ->type_name("NAME")
      ->take_all();
  app->add_option("--read-timeout", s.read_timeout_s,
                  "Seconds a client has to send a request's headers and body; slower requests "
                  "get 408")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.05, 3600.0))
      ->capture_default_str();
  app->add_option("--max-connections", s.max_connections,
                  "Connections open at once, default max(64, max-concurrent + queue + 16); "
                  "beyond it a connection idle for a second is closed for the new one, or the "
                  "new one gets 503")
      ->type_name("N")
      ->check(CLI::Range(1, 16384));
}

int ServeCommand(const ServeFlags& flags_in) {
  ServeFlags flags = flags_in;
  // --seed makes every request without its own seed repeatable.
  flags.server.random_seed = !flags.ensemble.Gave("sampling.seed");
  if (Status checked = server::CheckServerOptions(flags.server); !checked.ok()) return Fail(checked);

  // Every thread started from here on inherits the blocked signals; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A client that hangs up must not kill the server with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);

  SetLlamaVerbose(flags.ensemble.verbose);
  auto config = ResolveEnsemble(flags.ensemble);
  if (!config.ok()) return Fail(config.status());
  // Each running answer holds one sequence of every member it uses.
  for (auto& m : config->members) m.llama.max_sequences = flags.server.max_concurrent;
  auto members = LoadMembers(*config);
  if (!members.ok()) return Fail(members.status());

  server::ModelRegistry registry(config->name, *members);
  server::HttpServer http(flags.server, registry, config->options);
  Status bound = http.Bind();
  if (!bound.ok()) return Fail(bound);
  std::fprintf(stderr, "specfuse: serving %s on http://%s:%d (models: %s)\n", config->name.c_str(),
               flags.server.host.c_str(), http.port(), registry.Names().c_str());

  std::atomic<bool> signalled{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    signalled = true;
    http.Stop();
  });
  Status served = http.Serve();
  if (!signalled) pthread_kill(waiter.native_handle(), SIGTERM);  // wake the waiter; its Stop() is a no-op now
  waiter.join();
  if (!served.ok()) return Fail(served);
  std::fprintf(stderr, "specfuse: stopped\n");
  return 0;
}

}  // namespace specfuse::cli
