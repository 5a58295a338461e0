"""A local Mosquitto broker with authentication and an ACL, for the demo and the tests.

:class:`LocalBroker` writes a configuration (loopback only, anonymous off, a
password file made with ``mosquitto_passwd``, an ACL per user), starts
``mosquitto`` on a free port and stops it. Mosquitto comes from Debian's
package (``scripts/debian-packages.txt``). Lifecycle: ``start()`` / ``stop()``
or ``with``; the constructor starts nothing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from twinverse.errors import TwinverseError


class BrokerError(TwinverseError):
    code = "broker-error"


@dataclass(frozen=True, slots=True)
class BrokerUser:
    """A broker account and the topics it may read and write (MQTT filters)."""

    name: str
    password: str
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def mosquitto_path() -> str:
    """The mosquitto binary; raises BrokerError saying how to install it."""
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if found is None:
        raise BrokerError(
            "mosquitto is not installed; run `make` (scripts/system-deps.sh) "
            "or: sudo apt-get install mosquitto"
        )
    return found


@dataclass
class LocalBroker:
    """A mosquitto process on 127.0.0.1 with the given users (see the module docstring)."""

    directory: Path
    users: tuple[BrokerUser, ...]
    port: int = 0
    max_queued: int = 1_000_000
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def config_path(self) -> Path:
        return self.directory / "mosquitto.conf"

    def write_config(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        passwd = self.directory / "passwd"
        passwd.write_text("")
        for user in self.users:
            subprocess.run(
                ["mosquitto_passwd", "-b", str(passwd), user.name, user.password],
                check=True,
                capture_output=True,
            )
        acl = self.directory / "acl"
        lines = []
        for user in self.users:
            lines.append(f"user {user.name}")
            lines += [f"topic read {t}" for t in user.read]
            lines += [f"topic write {t}" for t in user.write]
            lines.append("")
        acl.write_text("\n".join(lines))
        self.config_path.write_text(
            "\n".join(
                [
                    "# written by twinverse (twinverse.live.broker); loopback only, no anonymous",
                    "user root" if _is_root() else "",
                    "per_listener_settings false",
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous false",
                    f"password_file {passwd}",
                    f"acl_file {acl}",
                    "persistence false",
                    f"max_queued_messages {self.max_queued}",
                    "max_queued_bytes 0",
                    "max_inflight_messages 1000",
                    "max_packet_size 16777216",
                    f"log_dest file {self.directory / 'mosquitto.log'}",
                    "log_type error",
                    "log_type warning",
                    "",
                ]
            )
        )
        return self.config_path

    def start(self, timeout: float = 10.0) -> LocalBroker:
        """Start mosquitto and wait until it accepts connections; raises BrokerError."""
        binary = mosquitto_path()
        self.write_config()
        self._process = subprocess.Popen(
            [binary, "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                raise BrokerError(f"mosquitto exited at start: {err.strip()[:500]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise BrokerError(f"mosquitto did not listen on port {self.port} within {timeout:g} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr is not None:
            process.stderr.close()

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0
