// The API server's copy of droverd's configuration revisions: one immutable
// apps/v1 ControllerRevision per revision, in droverd's namespace, so that a
// failover loses no acknowledged revision (deploy/README.md, "How failover
// keeps the store"). The leader creates the object before it stores the
// revision locally; a replica that becomes leader lists them and imports what
// it lacks (ConfigHistory::TakeOver).
//
//   KubeRevisionMirror mirror(http, {.namespace_ = "drover-system"});
//   RETURN_IF_ERROR(mirror.Create(revision));           // drover-config-7
//   ASSIGN_OR_RETURN(std::vector<Revision> all, mirror.List());
//
// Each object: name `<prefix>-config-<revision>`, labels
// app.kubernetes.io/name=drover and drover.io/kind=config-revision, `revision`
// = Drover's revision number, `data` = the Revision record in Protobuf's JSON
// mapping (author, appliedUnixMs, comment, source, sha256, document,
// rolledBackFrom). The record is the audit of that change: it carries who, when,
// why and what, and lives as long as the revision.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/store.h"

namespace drover {
namespace k8s {
class HttpClient;
}

// Where and how much: the namespace, the name prefix, and the bounds on what an import reads.
struct MirrorOptions {
  std::string namespace_ = "drover-system";
  std::string name_prefix = "drover";  // the Lease's name: objects are "<prefix>-config-<revision>"
  int max_revisions = 1000;            // the newest this many are imported; older ones are ignored
  int64_t max_objects_listed = 100'000;  // a list that goes on beyond this is an error, not a longer wait
  int page_size = 20;                  // objects per LIST page (each holds a document up to 16 MiB)
  absl::Duration timeout = absl::Seconds(5);  // per request: an apply waits at most about this long on it
};

class RevisionMirror {
 public:
  virtual ~RevisionMirror() = default;
  // Creates the object of `r` (its revision number set). OK when created, or
  // when the object exists with the same sha256 (a retry whose first answer
  // was lost). Aborted when it exists with another document (another leader
  // wrote that number); Unavailable naming the object and the API server's
  // answer otherwise (nothing is mirrored then).
  virtual absl::Status Create(const Revision& r) = 0;
  // Deletes revision `n`'s object (a revision whose local write failed after
  // it was mirrored: see ConfigHistory). OK when it is gone, also when it was
  // never there; Unavailable otherwise.
  virtual absl::Status Delete(int64_t n) = 0;
  // The newest mirrored revisions (at most MirrorOptions::max_revisions),
  // oldest first. An object that does not decode, whose sha256 does not match
  // its document, whose document exceeds queues/config.h's kMaxDocumentBytes or
  // whose `revision` differs from its record is skipped and logged by name.
  // Unavailable when a list request fails.
  virtual absl::StatusOr<std::vector<Revision>> List() = 0;
  // For messages: "ControllerRevisions drover-config-* in drover-system".
  virtual std::string Where() const = 0;
};

// The mirror in a cluster, through the API server. Thread-safe (HttpClient is).
class KubeRevisionMirror : public RevisionMirror {
 public:
  KubeRevisionMirror(k8s::HttpClient* http, MirrorOptions options) : http_(http), options_(std::move(options)) {}
  absl::Status Create(const Revision& r) override;
  absl::Status Delete(int64_t n) override;
  absl::StatusOr<std::vector<Revision>> List() override;
  std::string Where() const override;

 private:
  k8s::HttpClient* http_;
  MirrorOptions options_;
};

// The object's name for revision `n`: "<prefix>-config-<n>".
std::string ControllerRevisionName(const MirrorOptions& o, int64_t n);
// The ControllerRevision JSON that mirrors `r`.
std::string ControllerRevisionJson(const Revision& r, const MirrorOptions& o);
// A ControllerRevision's JSON back to the record. InvalidArgument naming the
// object and the field when it is not one of ours or fails the checks of List.
absl::StatusOr<Revision> DecodeControllerRevision(std::string_view json);

}  // namespace drover
