// The admin API's reads, shared by its two doors: the gRPC service
// (admin_service.h) and the web page's JSON endpoints on the HTTP port
// (page_routes.h). Each takes a drover.admin.v1 request and answers its
// response message, read from the published status or the store; it never
// touches the engine.
//
//   AdminReads reads(&backend);
//   absl::StatusOr<pb::ListPendingResponse> page = reads.ListPending(request);
//
// Errors: InvalidArgument names the field and the value (a negative page_size,
// a page_token we did not issue, an unknown queue, a tier outside 0..2, an unknown GPU type),
// NotFound for an unknown queue path or a pod neither pending nor in the store.
// Authentication is the caller's (admin_auth.h: AuthenticateBearer).
#pragma once

#include "absl/status/statusor.h"
#include "drover/admin/v1/admin.pb.h"
#include "server/admin_backend.h"

namespace drover {

class AdminReads {
 public:
  // `backend` must outlive this object.
  explicit AdminReads(const AdminBackend* backend) : backend_(backend) {}

  // The active revision with its document; NotFound before the first.
  absl::StatusOr<admin::v1::ConfigRevision> GetConfig() const;
  // Revisions newest first, without their documents, one page.
  absl::StatusOr<admin::v1::ListRevisionsResponse> ListRevisions(const admin::v1::ListRevisionsRequest& req) const;
  absl::StatusOr<admin::v1::ListAuditResponse> ListAudit(const admin::v1::ListAuditRequest& req) const;
  // Every queue in tree order, root first.
  admin::v1::ListQueuesResponse ListQueues() const;
  absl::StatusOr<admin::v1::Queue> GetQueue(const admin::v1::GetQueueRequest& req) const;
  // One page of the pending workloads matching the filter, in queue order.
  absl::StatusOr<admin::v1::ListPendingResponse> ListPending(const admin::v1::ListPendingRequest& req) const;
  // One page of the running workloads (a gang as one) matching the filter, by
  // leaf queue then oldest first. InvalidArgument: page_size, page_token, an
  // unknown queue, a tier outside 0..2, a gpu_type this cluster does not have.
  absl::StatusOr<admin::v1::ListRunningResponse> ListRunning(const admin::v1::ListRunningRequest& req) const;
  // Why a pod waits and its timeline from the store.
  absl::StatusOr<admin::v1::Explanation> Explain(const admin::v1::ExplainRequest& req) const;
  admin::v1::Inventory GetInventory(const admin::v1::GetInventoryRequest& req) const;
  // A queue's usage per GPU type over a window ending at the scheduler's clock.
  absl::StatusOr<admin::v1::QueryUsageResponse> QueryUsage(const admin::v1::QueryUsageRequest& req) const;

 private:
  const AdminBackend* backend_;
};

}  // namespace drover
