"""A script printing 100 MB through the agent, against the same script writing to /dev/null.

Reports the run time through OpenAssist (start to finish as the agent saw it) beside the direct
run, and the agent's peak resident memory (VmHWM) before and after: the output must neither slow
the script much nor grow the agent. Usage: .venv/bin/python -m bench.output_throughput [--mb 100]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.cluster import Cluster


def peak_rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=100)
    args = parser.parse_args()
    script = f"head -c {args.mb * 1024 * 1024} /dev/zero | tr '\\0' x"
    started = time.perf_counter()
    subprocess.run(["/bin/sh", "-c", script], stdout=subprocess.DEVNULL, check=True)
    direct_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as root, Cluster.start(Path(root)) as cluster:
        agent = cluster.new_agent("bench-output")
        assert agent.process is not None
        before = peak_rss_kb(agent.process.pid)
        started = time.perf_counter()
        invoke_id = cluster.run(script, agent.instance_id, Timeout="600")
        [result] = cluster.wait_final(invoke_id, timeout_s=600)
        through_s = time.perf_counter() - started
        after = peak_rss_kb(agent.process.pid)
    assert result["InvocationStatus"] == "Success", result
    print(f"{args.mb} MB of output, one local agent (SQLite, full output cap 16 MiB)")
    print(f"  direct to /dev/null  {direct_s:6.2f} s")
    print(f"  through openassist   {through_s:6.2f} s   ({through_s / direct_s:.1f}x)")
    print(f"  dropped {result['Dropped']} bytes, tail {len(result['Output'])} bytes")
    print(f"  agent peak RSS: {before / 1024:.1f} MB before, {after / 1024:.1f} MB after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
