// Progress lines, durations and the study's ETA; see progress.h.
#include "study/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace em {

double seconds_since(StudyClock::time_point t) {
    return std::chrono::duration<double>(StudyClock::now() - t).count();
}

std::string fmt_duration(double s) {
    char buf[32];
    if (s < 0 || !std::isfinite(s)) return "?";
    if (s < 90) {
        std::snprintf(buf, sizeof buf, "%.0fs", s);
    } else if (s < 5400) {
        const long long r = std::llround(s);
        std::snprintf(buf, sizeof buf, "%lldm%02llds", r / 60, r % 60);
    } else {
        const long long m = std::llround(s / 60);
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", m / 60, m % 60);
    }
    return buf;
}

Progress::Progress() : tty_(::isatty(2)) {}

void Progress::line(const std::string &s, bool important) {
    if (tty_) {
        std::fprintf(stderr, "\r\033[K%s", s.c_str());
        if (important) std::fprintf(stderr, "\n");
    } else if (important || seconds_since(last_) >= 10) {
        std::fprintf(stderr, "%s\n", s.c_str());
        last_ = StudyClock::now();
    }
    std::fflush(stderr);
}

void Budget::mark_start() {
    if (done_at_start >= 0) return;
    done_at_start = done;
    window.assign(1, {StudyClock::now(), done});
}

std::string Budget::eta() {
    if (done_at_start < 0 || done <= done_at_start) return "?";
    const auto now = StudyClock::now();
    if (now - window.back().first >= std::chrono::seconds(10)) window.push_back({now, done});
    while (window.size() > 2 && now - window[1].first >= std::chrono::minutes(10))
        window.pop_front();
    const double secs = std::chrono::duration<double>(now - window.front().first).count();
    const double rate = (done - window.front().second) / secs;
    return rate > 0 ? fmt_duration((total - done) / rate) : "?";
}

int Budget::percent() const {
    return total > 0 ? static_cast<int>(std::min(100.0, 100.0 * done / total)) : 0;
}

double Stopwatch::lap() {
    const double s = seconds_since(mark_);
    mark_ = StudyClock::now();
    return s;
}

}  // namespace em
