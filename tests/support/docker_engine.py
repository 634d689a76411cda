"""A real Docker engine for the container tests: Debian's dockerd on a private socket and data
root, with an image imported from a tarball of the static busybox (no registry is reachable).

``DockerEngine.start`` raises ``EngineUnavailable`` (with the reason) when dockerd or busybox is
missing, the process is not root, or the engine does not come up; tests skip with that reason.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

IMAGE = "openassist-busybox:test"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
APPLETS = ("sh", "sleep", "echo", "cat", "ps", "kill", "ls", "id", "true", "false", "setsid")
DOCKER_CLI = "/usr/bin/docker"  # docker.io's client; /usr/local/bin/docker may be another


class EngineUnavailable(Exception):
    """The engine cannot run here; the message says why."""


def _busybox() -> Path:
    for candidate in ("/bin/busybox", "/usr/bin/busybox"):
        path = Path(candidate)
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise EngineUnavailable("busybox is not installed (Debian package busybox-static)")


def rootfs_tarball(busybox: Path) -> bytes:
    """A root filesystem holding busybox as /bin/busybox and the applets the tests use."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for directory in ("bin", "tmp", "root", "etc"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if directory == "tmp" else 0o755
            tar.addfile(info)
        tar.add(str(busybox), arcname="bin/busybox")
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname, link.mode = tarfile.SYMTYPE, "busybox", 0o777
            tar.addfile(link)
        passwd = b"root:x:0:0:root:/root:/bin/sh\n"
        entry = tarfile.TarInfo("etc/passwd")
        entry.size, entry.mode = len(passwd), 0o644
        tar.addfile(entry, io.BytesIO(passwd))
    return data.getvalue()


@dataclass
class DockerEngine:
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @classmethod
    @contextlib.contextmanager
    def start(cls, root: Path) -> Iterator[DockerEngine]:
        dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
        if not Path(dockerd).exists() or not Path(DOCKER_CLI).exists():
            raise EngineUnavailable("dockerd or docker is not installed (Debian package docker.io)")
        if os.geteuid() != 0:
            raise EngineUnavailable("dockerd needs root here, and the tests do not run as root")
        busybox = _busybox()
        # Short paths: a unix socket path must fit in 108 bytes.
        root.mkdir(parents=True, exist_ok=True)
        log = (root / "dockerd.log").open("wb")
        process = subprocess.Popen(
            [
                dockerd,
                f"--data-root={root / 'data'}",
                f"--exec-root={root / 'exec'}",
                f"--pidfile={root / 'docker.pid'}",
                f"-H=unix://{root / 'docker.sock'}",
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--storage-driver=vfs",
                "--log-level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        engine = cls(root, process)
        try:
            engine._wait_ready()
            engine._import_image(busybox)
            yield engine
        finally:
            engine._stop()

    def docker(self, *args: str, check: bool = True, timeout: float = 60) -> str:
        """Run the docker CLI against this engine; returns its stdout."""
        done = subprocess.run(
            [DOCKER_CLI, "-H", self.host, *args],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)}: {done.stderr.decode(errors='replace')}")
        return done.stdout.decode().strip()

    def run_container(self, name: str, *extra: str, command: str = "sleep 100000") -> str:
        """Start a container of the busybox image (no network); returns its full id."""
        return self.docker(
            "run", "-d", "--network", "none", "--name", name, *extra, IMAGE, "sh", "-c", command
        )

    def inspect(self, container: str) -> dict[str, object]:
        found = json.loads(self.docker("inspect", container))
        assert isinstance(found, list)
        result = found[0]
        assert isinstance(result, dict)
        return result

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EngineUnavailable(f"dockerd exited at start: {self._log_tail()}")
            if self.socket.exists():
                probe = subprocess.run(
                    [DOCKER_CLI, "-H", self.host, "version"],
                    capture_output=True,
                    timeout=10,
                    check=False,
                )
                if probe.returncode == 0:
                    return
            time.sleep(0.2)
        raise EngineUnavailable(f"dockerd did not answer in {START_TIMEOUT_S:g} s")

    def _import_image(self, busybox: Path) -> None:
        done = subprocess.run(
            [DOCKER_CLI, "-H", self.host, "import", "-", IMAGE],
            input=rootfs_tarball(busybox),
            capture_output=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise EngineUnavailable(f"docker import failed: {done.stderr.decode(errors='replace')}")

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.root / "dockerd.log").read_text(errors="replace")[-2000:]
        return ""

    def _stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(Exception):
                ids = self.docker("ps", "-aq", timeout=20).split()
                if ids:
                    self.docker("rm", "-f", *ids, check=False, timeout=60)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_S)
        self._unmount_leftovers()
        shutil.rmtree(self.root, ignore_errors=True)

    def _unmount_leftovers(self) -> None:
        """Mounts the engine left under its root (it normally removes them itself)."""
        with contextlib.suppress(OSError):
            mounts = Path("/proc/self/mounts").read_text().splitlines()
            points = [line.split()[1] for line in mounts if len(line.split()) > 1]
            for point in sorted(points, key=len, reverse=True):
                if point.startswith(str(self.root)):
                    subprocess.run(["umount", "-l", point], capture_output=True, check=False)
