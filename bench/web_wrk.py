"""Helpers for `bench/web.py`: gunicorn servers, logging in, wrk runs, results and budgets."""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LUA = ROOT / "bench" / "web.lua"
USER_AGENT = "shunliu-bench-web"  # the same for login and wrk (Flask-Login session protection)
P95_BUDGET_MS = 50.0
RATIO_BUDGET = 0.5


# --- servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A gunicorn process group we started; `stop()` ends exactly that group."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    access_log: Path
    error_log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_position(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def start_gunicorn(
    name: str, target: str, env: dict[str, str], workdir: Path, workers: int, threads: int
) -> Server:
    """`gunicorn target` on a free loopback port with an access log of path, status, microseconds."""
    port = free_port()
    access, errors = workdir / f"{name}-access.log", workdir / f"{name}-error.log"
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        str(access),
        "--access-logformat",
        "%(U)s %(s)s %(D)s",
        "--error-logfile",
        str(errors),
        "--chdir",
        str(ROOT),
    ]
    if threads > 1:
        cmd += ["--worker-class", "gthread", "--threads", str(threads)]
    proc = subprocess.Popen(  # noqa: S603
        [*cmd, target], env=env, cwd=ROOT, start_new_session=True
    )
    server = Server(name, port, proc, access, errors)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return server
        time.sleep(0.2)
    server.stop()
    tail = errors.read_text(errors="replace")[-3000:] if errors.exists() else ""
    raise SystemExit(f"{name}: gunicorn did not start on port {port}\n{tail}")


# --- HTTP -----------------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def fetch(url: str, cookie: str = "") -> tuple[int, str]:
    """GET without following redirects: (status, body)."""
    opener = urllib.request.build_opener(_NoRedirect)
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Cookie": cookie})  # noqa: S310
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def login(base: str, user: str, password: str, cookie_name: str, warm_path: str = "/") -> str:
    """Log in through /login with its CSRF token; returns the `Cookie` header value.

    One page is fetched after the login so the session already holds its CSRF token: otherwise
    every benchmarked request would store a fresh one and send a new cookie.
    """
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    html = opener.open(f"{base}/login", timeout=30).read().decode()
    tag = re.search(r"<input[^>]*name=\"csrf_token\"[^>]*>", html)
    token = re.search(r"value=\"([^\"]+)\"", tag.group(0)) if tag else None
    if token is None:
        raise SystemExit("no CSRF token on /login")
    form = {"csrf_token": token.group(1), "login": user, "password": password}
    data = urllib.parse.urlencode(form).encode()
    opener.open(f"{base}/login", data=data, timeout=30).read()
    opener.open(f"{base}{warm_path}", timeout=30).read()
    cookies = {c.name: c.value for c in jar}
    if cookie_name not in cookies:
        raise SystemExit(f"login as {user!r} failed: no {cookie_name} cookie")
    return f"{cookie_name}={cookies[cookie_name]}"


# --- wrk ------------------------------------------------------------------------------------------


@dataclass
class Result:
    """One page's wrk run, plus the server-side times from gunicorn's access log."""

    page: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int  # wrk: status >= 400, connect/read/write errors, timeouts
    server_p95_ms: float | None = None
    non_200: int = 0  # from the access log (redirects count here, not in wrk's errors)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def parse_wrk(page: str, output: str) -> Result:
    """The `BENCH ...` line web.lua's done() prints."""
    line = next((ln for ln in output.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        raise ValueError(f"no BENCH line in wrk output:\n{output}")
    v = {k: int(x) for k, x in (kv.split("=") for kv in line.split()[1:])}
    errors = sum(v[k] for k in v if k.startswith("errors_"))
    return Result(
        page=page,
        requests=v["requests"],
        seconds=v["duration_us"] / 1e6,
        p50_ms=v["p50_us"] / 1000,
        p95_ms=v["p95_us"] / 1000,
        p99_ms=v["p99_us"] / 1000,
        errors=errors,
    )


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (the same definition wrk uses)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil
    return ordered[int(rank) - 1]


def access_log_stats(path: Path, start: int) -> tuple[float | None, int, int]:
    """From gunicorn's access log after byte `start`: (p95 ms, requests, responses other than 200)."""
    with path.open("rb") as fh:
        fh.seek(start)
        rows = [ln.split() for ln in fh.read().decode(errors="replace").splitlines()]
    times = [int(r[2]) / 1000 for r in rows if len(r) == 3 and r[2].isdigit()]
    non_200 = sum(1 for r in rows if len(r) == 3 and r[1] != "200")
    return (percentile(times, 95) if times else None), len(times), non_200


def run_wrk(
    page: str,
    url: str,
    *,
    seconds: int,
    connections: int,
    headers: dict[str, str],
    random_ids: tuple[str, int, int] | None = None,
    server: Server | None = None,
) -> Result:
    """wrk against `url` (or random ids: path pattern, lowest, highest id under `url`)."""
    cmd = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd += ["-s", str(LUA), url]
    if random_ids:
        cmd += ["--", random_ids[0], str(random_ids[1]), str(random_ids[2])]
    start = server.log_position() if server else 0
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    result = parse_wrk(page, done.stdout + done.stderr)
    if server is not None:
        time.sleep(0.3)  # gunicorn writes the last lines after the response
        result.server_p95_ms, _, result.non_200 = access_log_stats(server.access_log, start)
    return result


# --- report ---------------------------------------------------------------------------------------


def result_line(r: Result, bare_rps: float | None) -> str:
    line = f"page={r.page} rps={r.rps:.1f} p95_ms={r.p95_ms:.2f}"
    if bare_rps:
        line += f" ratio_vs_bare={r.rps / bare_rps:.2f}"
    line += f" p50_ms={r.p50_ms:.2f} p99_ms={r.p99_ms:.2f}"
    if r.server_p95_ms is not None:
        line += f" server_p95_ms={r.server_p95_ms:.2f}"
    return line + f" requests={r.requests} errors={r.errors} non_200={r.non_200}"


def budgets(r: Result, bare_rps: float) -> list[tuple[str, bool]]:
    """ARCHITECTURE 9 for one logged-in page: p95 <= 50 ms, >= 50 % of the bare page's req/s.

    A run with failed or non-200 responses fails both: its numbers measure the wrong thing.
    """
    clean = r.errors == 0 and r.non_200 == 0 and r.requests > 0
    ratio = r.rps / bare_rps if bare_rps else 0.0
    return [
        (
            f"budget page={r.page} p95_ms<={P95_BUDGET_MS:g} ({r.p95_ms:.2f})",
            clean and r.p95_ms <= P95_BUDGET_MS,
        ),
        (
            f"budget page={r.page} ratio_vs_bare>={RATIO_BUDGET:.2f} ({ratio:.2f})",
            clean and ratio >= RATIO_BUDGET,
        ),
    ]
