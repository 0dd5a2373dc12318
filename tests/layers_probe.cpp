// Links the validate harness and nothing above it (tests/meson.build: validate_dep only), so that
// tests/test_layers.sh can read what the harness brings into an executable.
#include "validate/runner.hpp"
#include "validate/stage_driver.hpp"

namespace {
using Run = decltype(&aiaccel::validate::Runner::run);
volatile Run keep = &aiaccel::validate::Runner::run;  // the linker keeps the runner and all it calls
}  // namespace

int main() { return keep != nullptr && !aiaccel::validate::stage_names().empty() ? 0 : 1; }
