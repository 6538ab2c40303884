// ReadSmallFile: the one way Drover reads a file an operator or the platform
// hands it (bearer tokens, kubeconfigs, PEM certificates and keys, droverctl's
// config, the admin token file). Its own library target (drover_small_file,
// Abseil only), so droverctl links it without the rest of k8s/.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace drover {

// The whole content of the regular file at `path`, if it holds at most
// `max_bytes`. The limit is checked as bytes arrive, so a huge file costs at most
// max_bytes + 1 bytes of memory; anything but a regular file (a FIFO, a device
// such as /dev/zero, a directory) is refused without reading it, and opening a
// FIFO never blocks. Errors start with `field` (a flag or document field) and
// quote the path cut short:
//   NotFound         --admin-tokens: cannot read "/x": No such file or directory
//   InvalidArgument  --admin-tokens: "/x" is 2000000 bytes; the limit is 1048576
//   InvalidArgument  --admin-tokens: "/dev/zero" is not a regular file
absl::StatusOr<std::string> ReadSmallFile(std::string_view field, const std::string& path, size_t max_bytes);

}  // namespace drover
