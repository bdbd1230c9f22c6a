// Asset lookup; see paths.h.
#include "common/paths.h"

#include <cstdlib>

namespace em {

std::string assets_dir() {
    if (const char *s = std::getenv("EMERGENCE_ASSETS"); s && *s) return s;
    return std::string(EM_SOURCE_DIR) + "/node_modules";
}

}  // namespace em
