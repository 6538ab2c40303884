#include "k8s/small_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/strings.h"

namespace drover {
namespace {

// Closes a file descriptor when it goes out of scope.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

absl::StatusOr<std::string> ReadSmallFile(std::string_view field, const std::string& path, size_t max_bytes) {
  const std::string quoted = StrCat("\"", CutForMessage(path), "\"");
  Fd f{open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};  // O_NONBLOCK: a FIFO's open does not wait
  if (f.fd < 0) return absl::NotFoundError(StrCat(field, ": cannot read ", quoted, ": ", std::strerror(errno)));
  struct stat st {};
  if (fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(StrCat(field, ": ", quoted, " is not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return absl::InvalidArgumentError(StrCat(field, ": ", quoted, " is ", st.st_size, " bytes; the limit is ", max_bytes));
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t have = 0;
  char more[4096];
  for (;;) {  // the file may grow or shrink while it is read: the limit holds on what arrives
    char* into = have < out.size() ? out.data() + have : more;
    const size_t room = have < out.size() ? out.size() - have : sizeof more;
    const ssize_t n = read(f.fd, into, room);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::DataLossError(StrCat(field, ": reading ", quoted, ": ", std::strerror(errno)));
    if (n == 0) break;
    if (into == more) out.append(more, static_cast<size_t>(n));
    have += static_cast<size_t>(n);
    if (have > max_bytes) {
      return absl::InvalidArgumentError(StrCat(field, ": ", quoted, " grew over the limit of ", max_bytes, " bytes"));
    }
  }
  out.resize(have);
  return out;
}

}  // namespace drover
