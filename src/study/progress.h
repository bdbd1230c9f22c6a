// What a study shows while it works: progress lines on stderr, durations, and the overall
// percentage and ETA priced in estimated seconds.
#pragma once

#include <chrono>
#include <deque>
#include <string>
#include <utility>

namespace em {

using StudyClock = std::chrono::steady_clock;

double seconds_since(StudyClock::time_point t);

// "42s", "12m05s", "3h07m"; "?" for a negative or non-finite time.
std::string fmt_duration(double s);

// Progress lines: overwritten in place on a terminal, plain lines (at most every 10 s) otherwise.
class Progress {
  public:
    Progress();
    // `important` lines stay (on a terminal) and are always written (otherwise).
    void line(const std::string &s, bool important = false);
    void done(const std::string &s) { line(s, true); }

  private:
    bool tty_;
    StudyClock::time_point last_ = StudyClock::now() - std::chrono::hours(1);
};

// Overall progress in estimated seconds: training and evaluation priced from throughput measured
// per model size when the runner starts (as `study plan` does), so the percentage and the ETA
// weigh small and large models by what they really cost here. The ETA scales the remaining
// estimate by how the estimate has compared with the clock over the last ten minutes.
struct Budget {
    double total = 0, done = 0;
    double done_at_start = -1;
    // (time, done) samples, one per 10 s over the last 10 minutes: the ETA follows the recent
    // rate, so a pause or a burst of load elsewhere fades out of it.
    std::deque<std::pair<StudyClock::time_point, double>> window;

    // Starts the clock at the first work this process does; `done` so far counts as found done.
    void mark_start();
    std::string eta();
    int percent() const;
};

// Wall time in laps: each call to lap() returns the seconds since the previous one (or since
// construction).
class Stopwatch {
  public:
    double lap();

  private:
    StudyClock::time_point mark_ = StudyClock::now();
};

}  // namespace em
