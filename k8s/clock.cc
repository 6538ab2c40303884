#include "k8s/clock.h"

#include <chrono>
#include <thread>

namespace drover::k8s {
namespace {

class RealSteadyClock : public SteadyClock {
 public:
  absl::Time Now() const override {
    return absl::UnixEpoch() + absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
  }
  bool SleepFor(absl::Duration d, const Notification* cancel) override {
    if (d <= absl::ZeroDuration()) return cancel == nullptr || !cancel->HasBeenNotified();
    if (cancel != nullptr) return !cancel->WaitForNotificationWithTimeout(d);
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(d));
    return true;
  }
};

}  // namespace

SteadyClock* RealClock() {
  static RealSteadyClock* const clock = new RealSteadyClock();
  return clock;
}

}  // namespace drover::k8s
