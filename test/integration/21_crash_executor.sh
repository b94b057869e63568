#!/usr/bin/env bash
# Crash safety: an executor killed with SIGKILL mid-task (the postmaster restarts the cluster).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/workers.sh"

issue=$(crash_start_rollout)
pid=$(crash_wait_running_task "$issue")
ok "an executor is running a task" test -n "$pid"
kill -9 "$pid"
sleep 1
crash_verify "$issue"
done_testing
