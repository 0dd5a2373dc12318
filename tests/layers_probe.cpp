// Links the validate harness and nothing above it (tests/meson.build: validate_dep only), so that
// tests/test_layers.sh can read what the harness brings into an executable.
#include "validate/runner.hpp"
#include "validate/stage_driver.hpp"

int main() {
    auto run = &aiaccel::validate::Runner::run;  // keeps the runner, and all it calls, in the executable
    return run && !aiaccel::validate::stage_names().empty() ? 0 : 1;
}
