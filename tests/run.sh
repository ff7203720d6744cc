#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests, then the
# end-to-end checks with real Singer tools installed from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --locked
bash tests/e2e/singer_tools.sh
bash tests/e2e/meltano.sh
