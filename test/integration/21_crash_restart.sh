#!/usr/bin/env bash
# Crash safety: the control cluster stopped with pg_ctl stop -m immediate mid-rollout, then started.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

issue=$(crash_start_rollout)
ok "a task is running" crash_wait_running_task "$issue"
ok "immediate stop of the control cluster" ctl_pgctl -m immediate -w stop
ok "control cluster starts again" ctl_pgctl -l "$BB_RUN_DIR/control/server.log" -w start
crash_verify "$issue"
done_testing
