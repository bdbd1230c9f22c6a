// `study status`: what a study's ledger records as done.
#pragma once

#include <string>

#include "common/status.h"

namespace em {

// What the ledger says: stages, runs, checkpoints and evaluations done. Returns text.
Result<std::string> study_status(const std::string &dir);

}  // namespace em
