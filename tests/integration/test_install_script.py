"""The one-line agent install, for real: a "machine" in a network namespace that reaches the
server only over its link fetches /agent/install.sh with curl (verifying the server's CA), which
installs the agent into its own venv, registers it and starts it; the server then runs a command
there. Uninstall is one command too and leaves nothing behind."""

from __future__ import annotations

import html
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from openassist.cli.agent_package import build_package
from tests.support.cluster import Cluster, _child_env, wait_until
from tests.support.console import csrf_of, signed_in
from tests.support.netns import netns_host, unavailable_reason
from tests.support.readme import operating_commands

pytestmark = pytest.mark.skipif(bool(unavailable_reason()), reason=unavailable_reason())


def _machine_env() -> dict[str, str]:
    """The machine's environment: no OPENASSIST_* of the test run; pip reads the local package
    index (the namespace has no route to the internet)."""
    env = {k: v for k, v in _child_env().items() if not k.startswith("OPENASSIST_")}
    env["PIP_INDEX_URL"] = "file:///opt/pypi/simple"
    return env


def _on_machine(wrapper: tuple[str, ...], command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*wrapper, "sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=600,
        env=_machine_env(),
        check=False,
    )


def _field(page: str, name: str) -> str:
    found = re.search(rf'data-field="{name}">([^<]*)<', page)
    assert found, f"the page shows no {name}"
    return found.group(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"


@pytest.mark.timeout(600)
def test_one_line_install_on_a_new_machine_runs_a_command_and_uninstalls_cleanly(
    tmp_path: Path,
) -> None:
    with netns_host() as host:
        env = {"OPENASSIST_TLS_HOSTNAMES": host.host_ip}
        with Cluster.start(tmp_path / "server", env=env, agent_host=host.host_ip) as cluster:
            packages = cluster.root / "data" / "agent-packages"
            build_package(packages)  # what self-upgrade offers too; signed by the server's key
            # The operator adds a machine in the console, which prints the command to paste.
            with signed_in(cluster) as console:
                form = console.get("/console/activations")
                created = console.post(
                    "/console/activations",
                    data={"csrf": csrf_of(form.text), "InstanceCount": "1"},
                )
            assert created.status_code == 200, created.text
            printed = html.unescape(_field(created.text, "install-command"))
            activation_id = _field(created.text, "activation-id")
            code = _field(created.text, "activation-code")
            listed = cluster.call("DescribeActivations", ActivationId=activation_id)
            assert listed["ActivationList"][0]["InstanceCount"] == 1
            machine = tmp_path / "machine"
            machine.mkdir()
            places = (
                f"--prefix {machine}/opt/openassist-agent "
                f"--state-dir {machine}/var/lib/openassist-agent "
                f"--unit-dir {machine}/etc/systemd/system"
            )
            # The README gives the same command, and its uninstall beside it.
            install, uninstall = operating_commands("Installing agents on other machines")
            served = f"127.0.0.1:{cluster.agent_port}"  # the address the browser used
            expected = (
                install.replace("SERVER:8643", served)
                .replace(" ID ", f" {activation_id} ")
                .replace(" CODE", f" {code}")
            )
            assert printed == expected
            # On the machine: its copy of ca.pem, and the address it reaches the server at.
            dialled = f"{host.host_ip}:{cluster.agent_port}"
            ca = shlex.quote(str(cluster.ca_file))
            install = printed.replace(served, dialled).replace("ca.pem", ca)
            uninstall = uninstall.replace("SERVER:8643", dialled).replace("ca.pem", ca)
            installed = _on_machine(host.wrapper, f"{install} {places} --run-in-background")
            assert installed.returncode == 0, installed.stderr
            state = machine / "var" / "lib" / "openassist-agent"
            instance_id = json.loads((state / "identity.json").read_text())["instanceId"]
            prefix = machine / "opt" / "openassist-agent"
            pid = int((prefix / "agent.pid").read_text())
            try:
                wait_until(lambda: cluster.online(instance_id), 60, what="the installed agent")
                [result] = cluster.wait_final(cluster.run("echo from-the-new-machine", instance_id))
                assert (result["InvocationStatus"], result["Output"]) == (
                    "Success",
                    "from-the-new-machine\n",
                )
                # It runs from its own venv, and its systemd unit is written for that venv.
                program = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
                assert program.startswith(str(prefix / "venv"))
                unit = machine / "etc" / "systemd" / "system" / "openassist-agent.service"
                assert f"ExecStart={prefix}/venv/bin/openassist agent run" in unit.read_text()

                removed = _on_machine(host.wrapper, f"{uninstall} {places}")
                assert removed.returncode == 0, removed.stderr
            finally:
                if _alive(pid):
                    os.kill(pid, 9)
            assert not _alive(pid)
            leftovers = [str(p.relative_to(machine)) for p in machine.rglob("*") if p.is_file()]
            assert leftovers == []
            assert not prefix.exists() and not state.exists()


def test_the_script_says_when_the_server_offers_no_package(tmp_path: Path) -> None:
    with Cluster.start(tmp_path) as cluster:
        with signed_in(cluster) as console:
            form = console.get("/console/activations")
            refused = console.post(
                "/console/activations",
                data={"csrf": csrf_of(form.text), "InstanceCount": "0"},
            )
        assert refused.status_code == 400
        # The API's own code and message (CreateActivation answers InstanceCount=0 the same).
        assert "The parameter InstanceCount must be at least 1." in html.unescape(refused.text)
        fetched = subprocess.run(
            [
                "curl",
                "-sS",
                "--cacert",
                str(cluster.ca_file),
                f"https://127.0.0.1:{cluster.agent_port}/agent/install.sh",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert "offers no agent package" in fetched.stdout
    assert "openassist agent package" in fetched.stdout


def test_the_script_names_the_python_it_needs_when_there_is_none(tmp_path: Path) -> None:
    with Cluster.start(tmp_path / "server") as cluster:
        build_package(cluster.root / "data" / "agent-packages")
        script = tmp_path / "install.sh"
        fetched = subprocess.run(
            [
                "curl",
                "-fsS",
                "--cacert",
                str(cluster.ca_file),
                "-o",
                str(script),
                f"https://127.0.0.1:{cluster.agent_port}/agent/install.sh",
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert fetched.returncode == 0, fetched.stderr
    bare = tmp_path / "bare-bin"  # a machine whose PATH holds no Python at all
    bare.mkdir()
    ran = subprocess.run(
        [
            "/bin/sh",
            str(script),
            "--activation-id",
            "act-x",
            "--activation-code",
            "code",
            "--prefix",
            str(tmp_path / "opt"),
            "--state-dir",
            str(tmp_path / "state"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(bare)},
        check=False,
    )
    assert ran.returncode == 1
    assert "needs Python 3.11 or newer" in ran.stderr and "(python3 here: none)" in ran.stderr
    assert "install python3.11 and python3.11-venv" in ran.stderr
    assert not (tmp_path / "opt").exists() and not (tmp_path / "state").exists()
