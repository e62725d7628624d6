#include "server/playground.h"

#include <cstddef>
#include <string>

#include <httplib.h>

#include "playground_assets.h"

namespace specfuse::server {

namespace {

// The page loads only its own assets and talks only to this server.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void Serve(httplib::Server& http, const char* path, const unsigned char* data, size_t size,
           const char* content_type) {
  // The handler copies the bytes per request: the assets are small, and httplib owns
  // the body it sends.
  http.Get(path, [data, size, content_type](const httplib::Request&, httplib::Response& res) {
    res.set_content(reinterpret_cast<const char*>(data), size, content_type);
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  });
}

}  // namespace

std::vector<std::string> RegisterPlayground(httplib::Server& http) {
  Serve(http, "/", web::kIndexHtml, web::kIndexHtmlSize, "text/html; charset=utf-8");
  Serve(http, "/playground/app.js", web::kAppJs, web::kAppJsSize, "text/javascript; charset=utf-8");
  Serve(http, "/playground/style.css", web::kStyleCss, web::kStyleCssSize, "text/css; charset=utf-8");
  return {"/", "/playground/app.js", "/playground/style.css"};
}

}  // namespace specfuse::server
