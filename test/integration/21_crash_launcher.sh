#!/usr/bin/env bash
# Crash safety: the launcher killed with SIGKILL mid-rollout (the postmaster restarts the cluster).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

issue=$(crash_start_rollout)
ok "a task is running" crash_wait_running_task "$issue"
pid=$(ctl_psql -c "SELECT pid FROM bb.workers() WHERE kind = 'launcher'")
ok "the launcher runs" test -n "$pid"
kill -9 "$pid"
sleep 1
crash_verify "$issue"
done_testing
