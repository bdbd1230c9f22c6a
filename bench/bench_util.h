// What the benchmarks share: a monotonic clock in seconds and the median of repeated timings.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace bench {

inline double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// The middle value (the upper one of an even count); 0 for none.
inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

}  // namespace bench
