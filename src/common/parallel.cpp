// Fork-join pool behind parallel_for; see parallel.h.
#include "common/parallel.h"

#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace em {
namespace {

class Pool {
  public:
    ~Pool() { resize(1); }

    void resize(int n) {
        if (n < 1) n = 1;
        if (n == size_) return;
        stop_workers();
        size_ = n;
        stopping_ = false;
        // New workers start from the current generation so they wait for the next region.
        for (int i = 1; i < n; ++i)
            workers_.emplace_back([this, i, g = generation_] { worker(i, g); });
    }
    int size() const { return size_; }

    void run(int64_t n, const std::function<void(int64_t, int64_t)> &fn) {
        if (n <= 0) return;
        int parts = static_cast<int>(std::min<int64_t>(n, size_));
        if (parts <= 1) {
            fn(0, n);
            return;
        }
        {
            std::lock_guard<std::mutex> lock(mu_);
            fn_ = &fn;
            n_ = n;
            parts_ = parts;
            pending_ = parts - 1;
            ++generation_;
        }
        cv_start_.notify_all();
        chunk(0);
        std::unique_lock<std::mutex> lock(mu_);
        cv_done_.wait(lock, [this] { return pending_ == 0; });
        fn_ = nullptr;
    }

  private:
    void chunk(int i) {
        int64_t begin = n_ * i / parts_, end = n_ * (i + 1) / parts_;
        if (begin < end) (*fn_)(begin, end);
    }

    void worker(int index, uint64_t seen) {
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(mu_);
                cv_start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
                if (stopping_) return;
                seen = generation_;
                if (index >= parts_) continue;
            }
            chunk(index);
            std::lock_guard<std::mutex> lock(mu_);
            if (--pending_ == 0) cv_done_.notify_one();
        }
    }

    void stop_workers() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stopping_ = true;
        }
        cv_start_.notify_all();
        for (auto &t : workers_) t.join();
        workers_.clear();
    }

    std::vector<std::thread> workers_;
    std::mutex mu_;
    std::condition_variable cv_start_, cv_done_;
    const std::function<void(int64_t, int64_t)> *fn_ = nullptr;
    int64_t n_ = 0;
    int parts_ = 0, pending_ = 0, size_ = 1;
    uint64_t generation_ = 0;
    bool stopping_ = false;
};

Pool &pool() {
    static Pool p;
    return p;
}

}  // namespace

void parallel_set_threads(int n) {
    pool().resize(n);
}
int parallel_threads() {
    return pool().size();
}

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)> &fn) {
    pool().run(n, fn);
}

int parallel_default_threads() {
    if (const char *s = std::getenv("EMERGENCE_THREADS")) {
        int n = std::atoi(s);
        if (n >= 1) return n;
    }
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? static_cast<int>(n) : 1;
}

}  // namespace em
