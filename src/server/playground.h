// The browser playground: a single page (web/index.html, app.js, style.css, compiled into
// the binary) that streams an ensemble answer and draws its round trace.
#pragma once

#include <string>
#include <vector>

namespace httplib {
class Server;
}

namespace specfuse::server {

// Registers GET / and the page's assets (/playground/app.js, /playground/style.css) on
// http. Only the embedded files are served; every other path is left to the server's
// own handlers (and so to its JSON 404). The page itself needs no API key: it asks the
// user for one when /v1/models answers 401 and keeps it in the page. Returns the paths
// registered.
std::vector<std::string> RegisterPlayground(httplib::Server& http);

}  // namespace specfuse::server
