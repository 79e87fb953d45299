"""The benchmarks' CPU meter: what a process used is counted even if it ended mid-run."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from bench._harness import CpuMeter, process_group

# A parent (standing in for a gunicorn arbiter) whose child burns 0.3 s of CPU, waits, burns
# 0.3 s more and exits; the parent reaps it and says so.
PARENT = textwrap.dedent(
    """
    import subprocess, sys
    pipe = subprocess.PIPE
    child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdin=pipe, stdout=pipe, text=True)
    print(child.stdout.readline().strip(), flush=True)
    sys.stdin.readline()
    child.communicate("go\\n")
    print("reaped", flush=True)
    sys.stdin.readline()
    """
)
CHILD = textwrap.dedent(
    """
    import sys, time
    def burn(seconds):
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass
    burn(0.3)
    print("ready", flush=True)
    sys.stdin.readline()
    burn(0.3)
    """
)


def test_a_process_that_ends_between_samples_is_counted_once_through_its_reaper():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert parent.stdout.readline().strip() == "ready"
        meter = CpuMeter({"group": lambda: process_group(parent.pid)}, reapers={"group": lambda: [parent.pid]})
        before = meter.sample()
        parent.stdin.write("go\n")
        parent.stdin.flush()
        assert parent.stdout.readline().strip() == "reaped"
        used = CpuMeter.used(before, meter.sample())["group"]
    finally:
        parent.communicate("\n", timeout=30)
    # The child's second 0.3 s, not its first (spent before the first sample), not nothing.
    assert 0.25 <= used <= 0.5, used
