#include "server/mailbox.h"

#include "core/strings.h"

namespace drover {

absl::Status Mailbox::Post(Command cmd) {
  {
    MutexLock lock(&mu_);
    if (closed_) return absl::UnavailableError("mailbox: the scheduling loop is stopping");
    if (queue_.size() >= capacity_) {
      return absl::ResourceExhaustedError(StrCat("mailbox: ", capacity_, " commands already wait for the loop"));
    }
    queue_.push_back(std::move(cmd));
  }
  if (waker_) waker_();
  return absl::OkStatus();
}

size_t Mailbox::RunPending(Engine& engine) {
  std::deque<Command> batch;
  {
    MutexLock lock(&mu_);
    batch.swap(queue_);
  }
  for (Command& c : batch) c(engine);
  return batch.size();
}

void Mailbox::Close() {
  std::deque<Command> dropped;
  MutexLock lock(&mu_);
  closed_ = true;
  dropped.swap(queue_);
}

size_t Mailbox::size() const {
  MutexLock lock(&mu_);
  return queue_.size();
}

}  // namespace drover
