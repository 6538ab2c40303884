// The web page on droverd's HTTP port, and the JSON endpoints it reads.
//
//   AddPageRoutes(&http, &reads, {.tokens = tokens, .anonymous_read = false});
//
//   GET /               the page (server/page/index.html; its script and style under /ui/)
//   GET /api/v1/admin/queues                        ListQueues
//   GET /api/v1/admin/pending?queue=&tier=&reason=&page_size=&page_token=   ListPending
//   GET /api/v1/admin/explain?pod=NS/NAME           Explain (the pod's timeline from the store)
//   GET /api/v1/admin/inventory?nodes=true|false    GetInventory
//   GET /api/v1/admin/usage?queue=&gpu_type=&window_seconds=&step_seconds=  QueryUsage
//
// A browser cannot call the gRPC admin API, so these endpoints answer the same
// requests through the same code (admin_reads.h) as Protobuf's JSON mapping of
// the drover.admin.v1 responses (field names as in admin.proto; 64-bit integers
// as strings, as that mapping says). They authenticate like the admin API:
// "Authorization: Bearer TOKEN" from --admin-tokens, or nothing with
// --admin-anonymous-read; 401 (with WWW-Authenticate: Bearer) otherwise, and the
// page then asks for a token and keeps it in sessionStorage. Every endpoint is a
// read, which every authenticated principal may do. Errors are JSON
// {"code": ..., "message": ...}: 400 names the query parameter and its value
// (an unknown parameter too), 404 an unknown queue path or pod.
//
// The page's files carry a Content-Security-Policy allowing only this origin's
// script and style: no inline script runs, and the script builds the page with
// DOM methods and textContent only (queue and pod names are user input).
#pragma once

#include <memory>

#include "server/admin_authn.h"
#include "server/admin_reads.h"
#include "server/http_server.h"

namespace drover {

struct PageAccess {
  std::shared_ptr<Authenticator> authn;  // null: no one authenticates
  bool anonymous_read = false;              // --admin-anonymous-read
};

// Registers the page and its endpoints on `http` (before it starts). `reads`
// must outlive the server.
void AddPageRoutes(HttpServer* http, const AdminReads* reads, PageAccess access);

}  // namespace drover
