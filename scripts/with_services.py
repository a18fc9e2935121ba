"""Run a command with throwaway PostgreSQL and Redis servers.

Usage::

    python scripts/with_services.py -- <command> [args...]

Starts a temporary PostgreSQL cluster (database ``suite_test``) and a Redis
server on free loopback ports, runs the command with
``SUITE_TEST_DATABASE_URL`` and ``SUITE_TEST_REDIS_URL`` pointing at them, then
stops both (also on failure, SIGINT and SIGTERM) and exits with the command's
exit code.  SIGINT/SIGTERM are forwarded to the command, which is killed if it
is still running KILL_AFTER seconds later.  A variable that is already set is
used as given and that server is not started.  Missing binaries or a failed
start are reported on stderr and the variable is left unset, so the tests that
need it skip.  Standard library only (it runs before the virtualenv exists).
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

PG_VAR, REDIS_VAR = "SUITE_TEST_DATABASE_URL", "SUITE_TEST_REDIS_URL"
IS_ROOT = os.geteuid() == 0
KILL_AFTER = 10  # seconds a command may take to exit after a forwarded SIGINT/SIGTERM


def log(msg: str) -> None:
    print(f"with_services: {msg}", file=sys.stderr, flush=True)


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def free_port() -> int:
    for _ in range(20):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) != 0:  # refused: really free
                return port
    raise RuntimeError("no free loopback port found")


def alive(pid: int) -> bool:
    try:  # a zombie still "exists" for kill(0); /proc tells us its state
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True


def ours(pid: int, workdir: Path) -> bool:
    """True if pid is alive and runs in workdir (both servers chdir there)."""
    if not alive(pid):
        return False
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")).resolve() == workdir.resolve()
    except OSError:
        return not Path("/proc/self").exists()  # no procfs: trust the pidfile


def read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def kill_wait(pid: int, sig: int, timeout: float) -> bool:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def adopt_orphans() -> None:
    """Become a child subreaper (Linux): the daemonized servers get re-parented to us,
    so we can reap them even where PID 1 does not (containers), leaving no zombies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def run(cmd: list[str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Like subprocess.run, in a new session (no terminal Ctrl-C) and killable as a group."""
    pipe = subprocess.PIPE
    with subprocess.Popen(  # noqa: S603
        cmd, cwd=cwd, stdout=pipe, stderr=pipe, text=True, start_new_session=True
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:  # timeout or signal: kill the group, e.g. runuser *and* initdb
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


class Postgres:
    def __init__(self) -> None:
        self.tmp: Path | None = None
        self.pid: int | None = None
        self.bindir: Path | None = None

    @staticmethod
    def find_bindir() -> tuple[Path | None, list[str]]:
        def version(d: str) -> float:
            m = re.search(r"/(\d+(?:\.\d+)?)/bin$", d)
            return float(m.group(1)) if m else 0.0

        dirs = ["/usr/lib/postgresql/15/bin"]
        dirs += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
        on_path = (shutil.which("initdb"), shutil.which("pg_ctl"))
        dirs += [str(Path(p).resolve().parent) for p in on_path if p]
        dirs = list(dict.fromkeys(dirs))
        for d in dirs:
            if all(os.access(Path(d, b), os.X_OK) for b in ("initdb", "pg_ctl")):
                return Path(d), dirs
        return None, dirs

    def as_pg(self, *cmd: str | Path) -> list[str]:
        args = [str(c) for c in cmd]
        return ["runuser", "-u", "postgres", "--", *args] if IS_ROOT else args

    def start(self) -> str | None:
        self.bindir, looked = self.find_bindir()
        if self.bindir is None:
            where = ", ".join(looked)
            log(f"PostgreSQL binaries not found (looked in {where}); PostgreSQL tests will skip")
            return None
        if IS_ROOT and not shutil.which("runuser"):
            log("runuser not found (needed to run initdb as postgres); PostgreSQL tests will skip")
            return None
        t0 = time.monotonic()
        self.tmp = Path(tempfile.mkdtemp(prefix="suite-pg-"))
        if IS_ROOT:
            pw = pwd.getpwnam("postgres")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        data, logfile, bindir = self.tmp / "data", self.tmp / "postgres.log", self.bindir
        init = self.as_pg(bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "-N")
        init += ["-E", "UTF8"]
        res = run([*init, "--locale=C.UTF-8"], self.tmp)
        if res.returncode != 0:
            shutil.rmtree(data, ignore_errors=True)
            res = run([*init, "--no-locale"], self.tmp)
        if res.returncode != 0:
            log(f"initdb failed; PostgreSQL tests will skip:\n{res.stdout}{res.stderr}")
            return None
        port = free_port()
        opts = (
            f"-p {port} -k {self.tmp} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        start = ["-D", str(data), "-l", str(logfile), "-w", "-t", "30", "-o", opts, "start"]
        res = run(self.as_pg(bindir / "pg_ctl", *start), self.tmp)
        self.pid = read_pid(data / "postmaster.pid")
        if res.returncode != 0 or self.pid is None or not ours(self.pid, data):
            log(f"PostgreSQL failed to start; its tests will skip. Log tail:\n{tail(logfile)}")
            return None
        addr = ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
        if os.access(bindir / "createdb", os.X_OK):
            res = run([str(bindir / "createdb"), *addr, "suite_test"], self.tmp)
        else:
            psql = shutil.which("psql", path=str(bindir)) or shutil.which("psql") or "psql"
            res = run([psql, *addr, "-d", "postgres", "-c", "CREATE DATABASE suite_test"], self.tmp)
        if res.returncode != 0:
            log(f"creating database suite_test failed; PostgreSQL tests will skip:\n{res.stderr}")
            return None
        ver = run([str(bindir / "pg_ctl"), "--version"], self.tmp).stdout
        major = m.group(1) if (m := re.search(r"(\d+)", ver)) else "?"
        took = time.monotonic() - t0
        log(f"PostgreSQL {major} on 127.0.0.1:{port} (pid {self.pid}, {took:.1f}s)")
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/suite_test"

    def stop(self) -> None:
        if self.tmp is None:
            return
        data = self.tmp / "data"
        pid = self.pid or read_pid(data / "postmaster.pid")
        if self.bindir and pid and ours(pid, data):
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                stop = ["-D", str(data), "-m", "immediate", "-w", "-t", "10", "stop"]
                run(self.as_pg(self.bindir / "pg_ctl", *stop), self.tmp, timeout=20)
            if alive(pid):
                kill_wait(pid, signal.SIGKILL, 5)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None


class Redis:
    def __init__(self) -> None:
        self.tmp: Path | None = None
        self.pid: int | None = None

    def start(self) -> str | None:
        exe = shutil.which("redis-server")
        if exe is None:
            log("redis-server not found on PATH; Redis tests will skip")
            return None
        t0 = time.monotonic()
        self.tmp = Path(tempfile.mkdtemp(prefix="suite-redis-"))
        pidfile, logfile, port = self.tmp / "redis.pid", self.tmp / "redis.log", free_port()
        opts = f"--port {port} --bind 127.0.0.1 --appendonly no --daemonize yes".split()
        files = ["--pidfile", str(pidfile), "--dir", str(self.tmp), "--logfile", str(logfile)]
        res = run([exe, *opts, "--save", "", *files], self.tmp, timeout=15)
        deadline, answered = time.monotonic() + 10, None
        while res.returncode == 0 and time.monotonic() < deadline:
            pid, pong = read_pid(pidfile), self.ping(port)
            if pid is not None and not ours(pid, self.tmp):
                break  # our server died; any answer comes from someone else's
            answered = answered or (time.monotonic() if pong else None)
            if pid is None and answered and time.monotonic() - answered > 1:
                break  # redis writes its pidfile right after binding: port taken
            if pid is not None and pong:
                self.pid = pid
                log(f"Redis on 127.0.0.1:{port} (pid {pid}, {time.monotonic() - t0:.1f}s)")
                return f"redis://127.0.0.1:{port}/0"
            time.sleep(0.05)
        log(f"Redis failed to start; Redis tests will skip. Log tail:\n{res.stderr}{tail(logfile)}")
        return None

    @staticmethod
    def ping(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.tmp is None:
            return
        pid = self.pid or read_pid(self.tmp / "redis.pid")
        if pid and ours(pid, self.tmp) and not kill_wait(pid, signal.SIGTERM, 5):
            kill_wait(pid, signal.SIGKILL, 5)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None


def main(argv: list[str]) -> int:
    cmd = argv[1:] if argv[:1] == ["--"] else argv
    if not cmd or cmd[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    child: subprocess.Popen[bytes] | None = None
    stopping = False
    signalled: list[float] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if child is not None and child.poll() is None:
            signalled.append(time.monotonic())
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)  # the command decides how to exit
        elif not stopping:
            log(f"got signal {signum} while starting; stopping services")
            raise SystemExit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    adopt_orphans()
    services: list[Postgres | Redis] = []
    env = dict(os.environ)
    try:
        for var, svc in ((PG_VAR, Postgres()), (REDIS_VAR, Redis())):
            if var in env:
                log(f"{var} already set; not starting a server")
                continue
            services.append(svc)
            try:
                url = svc.start()
            except (OSError, subprocess.SubprocessError, RuntimeError, KeyError) as exc:
                log(f"{type(svc).__name__} failed to start ({exc}); its tests will skip")
                url = None
            if url:
                env[var] = url
        child = subprocess.Popen(cmd, env=env)  # noqa: S603
        while (code := child.poll()) is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=0.5)
            if signalled and time.monotonic() - signalled[0] > KILL_AFTER:
                log(f"command still running {KILL_AFTER}s after the signal; killing it")
                child.kill()
                signalled.clear()
        return 128 - code if code < 0 else code
    except OSError as exc:  # the command itself could not be started
        log(f"cannot run command: {exc}")
        return 127
    finally:
        stopping = True
        for svc in reversed(services):
            svc.stop()
        reap()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
