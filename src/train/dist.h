// Data parallelism across processes (MPI ranks): which rank this process is, the few collectives
// the trainer needs, and the gradient reducer that sums micro-batch gradients in one fixed order
// whatever the number of ranks (docs/parallel.md). Without MPI, or when no launcher started the
// process, there is one rank and every call is local.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace em {

// Processes in the job as the launcher's environment gives them (OMPI_COMM_WORLD_SIZE, PMI_SIZE,
// PMIX_SIZE, or Slurm's SLURM_STEP_NUM_TASKS inside an srun step); 1 when there is none.
int dist_launcher_size();
int dist_launcher_rank();

// Starts MPI when the launcher's environment shows more than one process. Fails, naming the fix,
// when the binary was built without MPI but started as one of several processes, or when MPI's
// world does not match the environment. Call once, before anything else uses these functions.
Status dist_init(int *argc, char ***argv);
// Ends MPI if dist_init started it (every rank must call it; it synchronizes).
void dist_finalize();

int dist_rank();        // 0 in a single process
int dist_size();        // 1 in a single process
int dist_local_size();  // ranks on this machine
bool dist_built_with_mpi();

// Collective: every rank passes its own status; all return the same one. When any rank failed,
// the message of the lowest failing rank, prefixed "rank R: " when there are several ranks.
Status dist_agree(const Status &mine);

// Collective: rank 0's bytes overwrite every other rank's.
void dist_broadcast(void *data, size_t bytes);

// Collective: each element of v is owned by (computed on) exactly one rank and is 0 on the others;
// afterwards every rank holds the owner's values. Exact: x + 0 + ... + 0 is x.
void dist_merge_owned(std::vector<double> &v);

// Ends the whole job from one rank: prints "emergence: rank R: message" on one line and calls
// MPI_Abort. For failures where the other ranks may be inside a collective and cannot be told.
[[noreturn]] void dist_abort(const std::string &message);

// Sums a step's micro-batch gradients in a fixed binary tree over the micro-batch index, so that
// the result does not depend on how many ranks share the micro-batches. Level by level, pairs
// (0,1), (2,3), ... are added and an odd one passes up: for A = 6 the sum is
// ((g0+g1)+(g2+g3)) + (g4+g5). Rank r holds micro-batches [r*m, (r+1)*m), m = A/K a power of two
// (or K = 1), so its partial sum is one node of the tree and the K partials make its top levels.
//
// Across ranks a bucket (a contiguous range of the gradient arena) is reduce-scattered with a
// nonblocking all-to-all: rank j receives slice j of every rank's partial and adds them in the
// tree's order; a nonblocking allgather then returns the summed slices to every rank. Buckets are
// started as the backward pass finishes each layer (ready()), and progressed while later layers
// compute; finish() completes them. With one rank the reducer only does the local tree.
class GradReducer {
  public:
    // n: floats in the gradient arena. ranges: the buckets, tiling [0, n), in the order backward
    // completes them (Model::grad_ranges). overlap: exchange each bucket as ready() reports it;
    // otherwise one exchange of the whole arena in finish(), after the backward pass.
    GradReducer(size_t n, std::vector<std::pair<size_t, size_t>> ranges, bool overlap);
    ~GradReducer();
    GradReducer(const GradReducer &) = delete;
    GradReducer &operator=(const GradReducer &) = delete;

    // After the backward of a micro-batch that is not this rank's last in the step: grads holds
    // that micro-batch's gradient alone; it is added into the tree (grads may then be zeroed).
    void push(const float *grads);
    // During the backward of this rank's last micro-batch: grads[b, e), the next of the ranges,
    // will not change again. Adds the held tree nodes into it and starts its exchange.
    void ready(float *grads, size_t b, size_t e);
    // After the last backward (successful or not): treats the ranges no ready() reported, in
    // order, so every rank starts the same exchanges, and completes them all. Then grads holds
    // the step's summed gradient on every rank.
    void finish(float *grads);

    // Seconds this rank spent waiting in finish() for exchanges, summed over steps.
    double wait_seconds() const { return wait_s_; }

  private:
    struct Node {
        int level;
        std::vector<float> g;
    };
    struct Bucket;
    void fold(float *grads, size_t b, size_t e);
    void exchange_start(float *grads, size_t b, size_t e);
    void progress(bool wait);

    size_t n_;
    bool overlap_;
    std::vector<Node> stack_;               // held nodes, levels strictly decreasing
    std::vector<std::vector<float>> free_;  // buffers of nodes already added, for reuse
    std::vector<std::pair<size_t, size_t>> ranges_;
    size_t next_range_ = 0;  // ranges_ started this step
    std::vector<std::unique_ptr<Bucket>> buckets_;
    size_t next_ = 0;  // buckets_ in use this step
    double wait_s_ = 0;
};

// The fixed tree, in place over parts[0..count): parts[0][0..n) receives the sum (the others are
// overwritten). The reference for GradReducer's order.
void tree_sum(float *const *parts, size_t count, size_t n);

}  // namespace em
