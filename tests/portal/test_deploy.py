"""The production stack: docker-compose, nginx in front of gunicorn, checked with the real tools."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = shutil.which("docker-compose")
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_compose = pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed")
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")
pytestmark = pytest.mark.slow  # real docker-compose, nginx and gunicorn processes


def _project(tmp_path: Path, env_text: str) -> Path:
    """A copy of the compose project with `env_text` as its .env (the real .env is left alone)."""
    for name in ("docker-compose.yml", "Dockerfile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    (tmp_path / ".env").write_text(env_text)
    return tmp_path


def _compose(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TLS_", "PROXY_COUNT"))}
    return subprocess.run(
        [COMPOSE, *args], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )


def _yaml_to_json(text: str) -> dict:
    # docker-compose (Debian's) brings PyYAML to the system Python; the project needs no YAML.
    code = "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"
    result = subprocess.run(
        ["/usr/bin/python3", "-c", code], input=text, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


@needs_compose
def test_compose_file_is_valid_with_the_example_env(tmp_path):
    project = _project(tmp_path, (ROOT / ".env.example").read_text())
    result = _compose(project, "config", "-q")
    assert result.returncode == 0, result.stderr


@needs_compose
def test_compose_puts_nginx_in_front_of_gunicorn(tmp_path):
    project = _project(tmp_path, (ROOT / ".env.example").read_text())
    result = _compose(project, "config")
    assert result.returncode == 0, result.stderr
    services = _yaml_to_json(result.stdout)["services"]
    web, nginx = services["web"], services["nginx"]
    assert "ports" not in web  # gunicorn is reachable only through nginx
    assert [str(port) for port in web["expose"]] == ["8000"]
    assert web["environment"]["PROXY_COUNT"] == "1"
    assert nginx["image"].startswith("nginx:")
    published = {str(port["target"]) if isinstance(port, dict) else port for port in nginx["ports"]}
    assert {"80:80", "443:443"} <= published or {"80", "443"} <= published
    mounts = [str(volume) for volume in nginx["volumes"]]
    assert any("fullchain.pem" in m and "/etc/letsencrypt/live/" in m for m in mounts)
    assert any("privkey.pem" in m and "/etc/letsencrypt/live/" in m for m in mounts)
    assert any("/srv/static" in m for m in mounts)
    assert "collectstatic" in " ".join(services["migrate"]["command"])


@needs_compose
def test_compose_says_which_certificate_is_missing(tmp_path):
    env = "\n".join(
        line
        for line in (ROOT / ".env.example").read_text().splitlines()
        if not line.startswith("TLS_CERT_PATH")
    )
    result = _compose(_project(tmp_path, env), "config", "-q")
    assert result.returncode != 0
    assert "TLS_CERT_PATH" in result.stderr


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _nginx_config(tmp_path: Path, *, upstream: str, http: int, https: int) -> Path:
    """deploy/nginx.conf with this machine's paths and ports, inside a minimal main config."""
    cert, key = _self_signed(tmp_path)
    (tmp_path / "static" / "static").mkdir(parents=True)
    (tmp_path / "static" / "static" / "hello.txt").write_text("hello")
    server = (
        (ROOT / "deploy" / "nginx.conf")
        .read_text()
        .replace("/etc/nginx/tls/fullchain.pem", str(cert))
        .replace("/etc/nginx/tls/privkey.pem", str(key))
        .replace("root /srv;", f"root {tmp_path / 'static'};")
        .replace("http://web:8000", f"http://{upstream}")
        .replace("listen 80;", f"listen 127.0.0.1:{http};")
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;")
        .replace("listen [::]:80;", "")
        .replace("listen [::]:443 ssl;", "")
    )
    (tmp_path / "server.conf").write_text(server)
    main = tmp_path / "nginx.conf"
    main.write_text(
        # pytest's temporary directories are private: as root, workers must stay root to read them.
        ("user root;\n" if os.geteuid() == 0 else "") + f"pid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'error.log'};\n"
        "events {}\n"
        "http {\n"
        f"  access_log {tmp_path / 'access.log'};\n"
        f"  client_body_temp_path {tmp_path};\n"
        f"  proxy_temp_path {tmp_path};\n"
        f"  include {tmp_path / 'server.conf'};\n"
        "}\n"
    )
    return main


@needs_nginx
def test_nginx_config_is_valid(tmp_path):
    main = _nginx_config(tmp_path, upstream="127.0.0.1:8000", http=8080, https=8443)
    result = subprocess.run(
        [NGINX, "-t", "-c", str(main), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    nginx_conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in nginx_conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx_conf
    assert "client_max_body_size 10m;" in nginx_conf


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited early:\n{log.read_text() if log.exists() else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"not listening on {port}:\n{log.read_text() if log.exists() else ''}")


class _Client:
    """HTTPS through nginx from a given loopback address, keeping cookies."""

    def __init__(self, port: int, cafile: Path, source: str) -> None:
        self.context = ssl.create_default_context(cafile=str(cafile))
        self.context.check_hostname = False
        self.port, self.source, self.cookies = port, source, {}

    def request(self, method: str, path: str, body: str = "", **headers: str):
        connection = http.client.HTTPSConnection(
            "localhost", self.port, context=self.context, source_address=(self.source, 0)
        )
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers = {"Cookie": cookie, **headers} if cookie else headers
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response.status, response.headers, text

    def signup(self, n: int, forged: str) -> int:
        _status, _headers, page = self.request("GET", "/accounts/signup/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token,
                "first_name": "A",
                "last_name": "B",
                "email": f"u{n}@x.org",
                "password1": "x",
                "password2": "y",
            }
        )
        status, _headers, _page = self.request(
            "POST",
            "/accounts/signup/",
            form,
            **{
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": "https://localhost/accounts/signup/",
                "X-Forwarded-For": forged,
            },
        )
        return status


@needs_nginx
def test_the_real_chain_nginx_gunicorn_keys_limits_and_logs_on_the_client(tmp_path):
    """TLS at nginx, gunicorn with deploy/gunicorn.conf.py, PROXY_COUNT=1; two loopback clients."""
    app_port, http_port, https_port = _free_port(), _free_port(), _free_port()
    # Fresh loopback addresses (all of 127/8 is local): limits left in Redis by an earlier run
    # within the hour do not apply to them.
    alice_address, bob_address = (
        f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(250)}.{n}" for n in (2, 3)
    )
    # With Redis, as in production, several workers share the counters.
    workers = 2 if os.environ.get("REDIS_URL") else 1
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}},
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path / "var"),
        "PROXY_COUNT": "1",
    }
    gunicorn_log = tmp_path / "gunicorn.log"
    gunicorn = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
            "--bind", f"127.0.0.1:{app_port}", "--workers", str(workers),
            "--access-logfile", str(gunicorn_log), "--error-logfile", str(gunicorn_log),
            "portal.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    main = _nginx_config(
        tmp_path, upstream=f"127.0.0.1:{app_port}", http=http_port, https=https_port
    )
    nginx = subprocess.Popen(
        [NGINX, "-c", str(main), "-e", str(tmp_path / "error.log"), "-g", "daemon off;"]
    )
    try:
        _wait_for(app_port, gunicorn, gunicorn_log)
        _wait_for(https_port, nginx, tmp_path / "error.log")
        alice = _Client(https_port, tmp_path / "fullchain.pem", alice_address)
        bob = _Client(https_port, tmp_path / "fullchain.pem", bob_address)

        status, _headers, body = alice.request("GET", "/healthz", **{"X-Forwarded-For": "6.6.6.6"})
        assert status == 200 and json.loads(body) == {"status": "ok"}
        # Alice forges a new X-Forwarded-For each time: still one address, still 10 an hour.
        statuses = [alice.signup(i, forged=f"10.0.0.{i}") for i in range(11)]
        assert statuses == [200] * 10 + [429]
        assert bob.signup(99, forged="10.0.0.1") == 200

        status, headers, body = alice.request("GET", "/static/hello.txt")
        assert status == 200 and body == "hello" and "max-age" in headers["Cache-Control"]
        redirect = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
             f"http://127.0.0.1:{http_port}/healthz"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert redirect.stdout.startswith("301 https://127.0.0.1/healthz")
    finally:
        nginx.terminate()
        gunicorn.terminate()
        nginx.wait(timeout=10)
        gunicorn.wait(timeout=10)
    access = gunicorn_log.read_text().splitlines()
    healthz = [line for line in access if "/healthz" in line]
    # gunicorn's peer is nginx (127.0.0.1); its access log names the client instead.
    assert healthz and healthz[0].startswith(f"{alice_address} "), access
    assert all("6.6.6.6" not in line for line in access)
    assert any(
        line.startswith(f"{bob_address} ") and "/accounts/signup/" in line for line in access
    )


@needs_compose
def test_compose_spid_profile_runs_iam_proxy_italia_only_when_asked(tmp_path):
    project = _project(tmp_path, (ROOT / ".env.example").read_text())
    assert _compose(project, "--profile", "spid", "config", "-q").returncode == 0
    result = _compose(project, "--profile", "spid", "config")
    assert result.returncode == 0, result.stderr
    services = _yaml_to_json(result.stdout)["services"]
    proxy = services["iam-proxy-italia"]
    assert proxy["image"].startswith("ghcr.io/italia/iam-proxy-italia:")
    assert proxy["profiles"] == ["spid"] and services["iam-proxy-mongo"]["profiles"] == ["spid"]
    assert proxy["environment"]["SATOSA_HOSTNAME"] == "iam.corsi.example.org"
    assert proxy["environment"]["MONGO_OIDCOP_HOST"] == "mongodb://iam-proxy-mongo:27017"
    # Reachable only from this host, for the TLS proxy in front of it.
    published = [
        p if isinstance(p, str) else f"{p.get('host_ip')}:{p['published']}" for p in proxy["ports"]
    ]
    assert all(str(p).startswith("127.0.0.1:") for p in published)
    # The portal does not need it to start: SPID/CIE stay optional.
    for name in ("web", "worker", "beat", "migrate", "nginx"):
        assert "iam-proxy-italia" not in services[name].get("depends_on", {})
