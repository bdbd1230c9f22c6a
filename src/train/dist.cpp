// Ranks, collectives and the fixed-order gradient reducer; see dist.h. Every MPI call of the
// project lives in this file, behind EM_HAVE_MPI, so the single-process build needs no MPI.
#include "train/dist.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifdef EM_HAVE_MPI
#include <mpi.h>
#endif

namespace em {
namespace {

int g_rank = 0, g_size = 1, g_local_size = 1;
bool g_started = false;
#ifdef EM_HAVE_MPI
// Nonblocking collectives must start in the same order on every rank of a communicator. The
// reducer starts all-to-alls in bucket order and allgathers in bucket order, but the two kinds
// interleave differently on different ranks, so each kind has its own communicator.
MPI_Comm g_comm_scatter = MPI_COMM_NULL, g_comm_gather = MPI_COMM_NULL;
#endif

// The first of the launchers' variables that is set: its name and value.
struct EnvCount {
    const char *name = nullptr;
    int value = -1;
};
EnvCount env_first(std::initializer_list<const char *> names) {
    for (const char *n : names) {
        const char *v = std::getenv(n);
        if (v && *v) return {n, std::atoi(v)};
    }
    return {};
}

// Slurm's step variables are set by srun only, not in a batch script's shell (where SLURM_NTASKS
// describes the allocation, not this process).
EnvCount launcher_size_var() {
    return env_first({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_STEP_NUM_TASKS"});
}

double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int dist_launcher_size() {
    EnvCount e = launcher_size_var();
    return e.value > 0 ? e.value : 1;
}

int dist_launcher_rank() {
    EnvCount e = env_first({"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"});
    return e.value > 0 ? e.value : 0;
}

bool dist_built_with_mpi() {
#ifdef EM_HAVE_MPI
    return true;
#else
    return false;
#endif
}

Status dist_init(int *argc, char ***argv) {
    const EnvCount env = launcher_size_var();
    if (env.value <= 1) return Status::ok();
#ifndef EM_HAVE_MPI
    (void)argc;
    (void)argv;
    return Status::error(std::string("started as one of ") + std::to_string(env.value) +
                         " processes (" + env.name + "=" + std::to_string(env.value) +
                         ") but this emergence was built without MPI; install libopenmpi-dev "
                         "(scripts/install-deps.sh), rebuild, and start it again, or run it "
                         "without mpirun/srun");
#else
    MPI_Init(argc, argv);
    g_started = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &local);
    MPI_Comm_size(local, &g_local_size);
    MPI_Comm_free(&local);
    MPI_Comm_dup(MPI_COMM_WORLD, &g_comm_scatter);
    MPI_Comm_dup(MPI_COMM_WORLD, &g_comm_gather);
    if (g_size != env.value)
        return Status::error(std::string(env.name) + "=" + std::to_string(env.value) +
                             " but MPI started " + std::to_string(g_size) +
                             " processes: the launcher and the MPI library do not match (with "
                             "srun, pass --mpi=pmix; with mpirun, use Open MPI's mpirun)");
    return Status::ok();
#endif
}

void dist_finalize() {
#ifdef EM_HAVE_MPI
    if (g_started) {
        MPI_Comm_free(&g_comm_scatter);
        MPI_Comm_free(&g_comm_gather);
        MPI_Finalize();
    }
#endif
    g_started = false;
    g_rank = 0;
    g_size = 1;
    g_local_size = 1;
}

int dist_rank() {
    return g_rank;
}
int dist_size() {
    return g_size;
}
int dist_local_size() {
    return g_local_size;
}

Status dist_agree(const Status &mine) {
    if (g_size == 1) return mine;
#ifdef EM_HAVE_MPI
    std::vector<int> ok(static_cast<size_t>(g_size));
    int my_ok = mine.is_ok() ? 1 : 0;
    MPI_Allgather(&my_ok, 1, MPI_INT, ok.data(), 1, MPI_INT, MPI_COMM_WORLD);
    int failed = -1;
    for (int r = 0; r < g_size && failed < 0; ++r)
        if (!ok[static_cast<size_t>(r)]) failed = r;
    if (failed < 0) return Status::ok();
    std::string msg = g_rank == failed ? mine.message() : std::string();
    long long len = static_cast<long long>(msg.size());
    MPI_Bcast(&len, 1, MPI_LONG_LONG, failed, MPI_COMM_WORLD);
    msg.resize(static_cast<size_t>(len));
    MPI_Bcast(msg.data(), static_cast<int>(len), MPI_CHAR, failed, MPI_COMM_WORLD);
    return Status::error("rank " + std::to_string(failed) + ": " + msg);
#else
    return mine;
#endif
}

void dist_broadcast(void *data, size_t bytes) {
    if (g_size == 1) return;
#ifdef EM_HAVE_MPI
    // MPI counts are int: large arenas go in pieces.
    const size_t piece = size_t{1} << 30;
    for (size_t off = 0; off < bytes; off += piece)
        MPI_Bcast(static_cast<char *>(data) + off, static_cast<int>(std::min(piece, bytes - off)),
                  MPI_BYTE, 0, MPI_COMM_WORLD);
#else
    (void)data;
    (void)bytes;
#endif
}

void dist_merge_owned(std::vector<double> &v) {
    if (g_size == 1 || v.empty()) return;
#ifdef EM_HAVE_MPI
    MPI_Allreduce(MPI_IN_PLACE, v.data(), static_cast<int>(v.size()), MPI_DOUBLE, MPI_SUM,
                  MPI_COMM_WORLD);
#endif
}

void dist_abort(const std::string &message) {
    std::fprintf(stderr, "emergence: rank %d: %s\n", g_rank, message.c_str());
    std::fflush(stderr);
#ifdef EM_HAVE_MPI
    if (g_started) MPI_Abort(MPI_COMM_WORLD, 1);
#endif
    std::_Exit(1);
}

void tree_sum(float *const *parts, size_t count, size_t n) {
    for (size_t step = 1; step < count; step *= 2)
        for (size_t i = 0; i + step < count; i += 2 * step) {
            float *a = parts[i];
            const float *b = parts[i + step];
            for (size_t k = 0; k < n; ++k) a[k] = a[k] + b[k];
        }
}

// One range of the arena in flight: sent with an all-to-all (stage 1), this rank's slice summed,
// then returned with an allgather (stage 2).
struct GradReducer::Bucket {
    float *base = nullptr;  // grads + b
    size_t len = 0;
    std::vector<int> cnt, displ;  // per rank: its slice of the range
    std::vector<float> recv;      // (K, cnt[rank]): every rank's copy of this rank's slice
    int stage = 0;                // 0 idle, 1 all-to-all, 2 allgather, 3 done
#ifdef EM_HAVE_MPI
    MPI_Request req = MPI_REQUEST_NULL;
#endif
};

GradReducer::GradReducer(size_t n, std::vector<std::pair<size_t, size_t>> ranges, bool overlap)
    : n_(n), overlap_(overlap), ranges_(std::move(ranges)) {
    if (!overlap_) ranges_ = {{0, n}};
}
GradReducer::~GradReducer() = default;

void GradReducer::push(const float *grads) {
    Node node{0, {}};
    // Buffers of merged nodes are kept for the next push: no allocation after the first step.
    if (free_.empty()) {
        node.g.resize(n_);
    } else {
        node.g = std::move(free_.back());
        free_.pop_back();
    }
    std::memcpy(node.g.data(), grads, n_ * sizeof(float));
    while (!stack_.empty() && stack_.back().level == node.level) {
        const std::vector<float> &top = stack_.back().g;
        for (size_t i = 0; i < n_; ++i) node.g[i] = top[i] + node.g[i];
        node.level += 1;
        free_.push_back(std::move(stack_.back().g));
        stack_.pop_back();
    }
    stack_.push_back(std::move(node));
}

// grads[b, e) holds the last micro-batch's gradient: adds the held nodes, the newest first, which
// is the tree's order (the held levels are the binary digits of the micro-batches before it).
void GradReducer::fold(float *grads, size_t b, size_t e) {
    for (size_t s = stack_.size(); s-- > 0;) {
        const float *g = stack_[s].g.data();
        for (size_t i = b; i < e; ++i) grads[i] = g[i] + grads[i];
    }
}

void GradReducer::ready(float *grads, size_t b, size_t e) {
    if (!overlap_ || next_range_ >= ranges_.size() || ranges_[next_range_] != std::pair(b, e))
        return;  // not the expected bucket: finish() treats it in order
    fold(grads, b, e);
    exchange_start(grads, b, e);
    next_range_ += 1;
    progress(false);
}

void GradReducer::exchange_start(float *grads, size_t b, size_t e) {
    if (g_size == 1) return;
#ifdef EM_HAVE_MPI
    if (next_ == buckets_.size()) buckets_.push_back(std::make_unique<Bucket>());
    Bucket &k = *buckets_[next_++];
    const size_t K = static_cast<size_t>(g_size), len = e - b;
    k.base = grads + b;
    k.len = len;
    k.cnt.resize(K);
    k.displ.resize(K);
    for (size_t j = 0, off = 0; j < K; ++j) {
        size_t c = len / K + (j < len % K ? 1 : 0);
        k.cnt[j] = static_cast<int>(c);
        k.displ[j] = static_cast<int>(off);
        off += c;
    }
    const int mine = k.cnt[static_cast<size_t>(g_rank)];
    k.recv.resize(K * static_cast<size_t>(mine));
    std::vector<int> rcnt(K, mine), rdispl(K);
    for (size_t j = 0; j < K; ++j) rdispl[j] = static_cast<int>(j) * mine;
    // MPI copies the count arrays when the call returns only for blocking calls; keep ours alive
    // in the bucket until completion (MPI-3 requires the arrays to stay valid).
    k.cnt.insert(k.cnt.end(), rcnt.begin(), rcnt.end());
    k.displ.insert(k.displ.end(), rdispl.begin(), rdispl.end());
    MPI_Ialltoallv(k.base, k.cnt.data(), k.displ.data(), MPI_FLOAT, k.recv.data(), k.cnt.data() + K,
                   k.displ.data() + K, MPI_FLOAT, g_comm_scatter, &k.req);
    k.stage = 1;
#else
    (void)grads;
    (void)b;
    (void)e;
#endif
}

#ifdef EM_HAVE_MPI
// Tests the request (and so drives MPI's progress), or waits for it.
static bool request_done(MPI_Request &req, bool wait) {
    int done = 1;
    if (wait)
        MPI_Wait(&req, MPI_STATUS_IGNORE);
    else
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    return done != 0;
}
#endif

// Advances every bucket in flight; with wait, until all are done. A bucket's allgather starts
// only after every earlier bucket's, so the allgathers start in the same order on every rank.
void GradReducer::progress(bool wait) {
#ifdef EM_HAVE_MPI
    const size_t K = static_cast<size_t>(g_size), r = static_cast<size_t>(g_rank);
    bool in_order = true;  // every earlier bucket has started its allgather
    for (size_t i = 0; i < next_; ++i) {
        Bucket &k = *buckets_[i];
        if (k.stage == 1 && in_order && request_done(k.req, wait)) {
            const size_t mine = static_cast<size_t>(k.cnt[r]);
            std::vector<float *> parts(K);
            for (size_t j = 0; j < K; ++j) parts[j] = k.recv.data() + j * mine;
            tree_sum(parts.data(), K, mine);
            std::memcpy(k.base + k.displ[r], parts[0], mine * sizeof(float));
            MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, k.base, k.cnt.data(),
                            k.displ.data(), MPI_FLOAT, g_comm_gather, &k.req);
            k.stage = 2;
        }
        if (k.stage == 1) in_order = false;
        if (k.stage == 2 && request_done(k.req, wait)) k.stage = 3;
    }
#else
    (void)wait;
#endif
}

void GradReducer::finish(float *grads) {
    for (; next_range_ < ranges_.size(); ++next_range_) {
        const auto [b, e] = ranges_[next_range_];
        fold(grads, b, e);
        exchange_start(grads, b, e);
    }
    double t0 = now_s();
    progress(true);
    wait_s_ += now_s() - t0;
    for (Node &node : stack_) free_.push_back(std::move(node.g));
    stack_.clear();
    next_range_ = 0;
    next_ = 0;
}

}  // namespace em
