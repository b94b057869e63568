#!/usr/bin/env bash
# test/unit/run_tests.sh — the name test/run_all.sh looks for; runs test/unit/run.sh.
exec bash "$(dirname "${BASH_SOURCE[0]}")/run.sh" "$@"
