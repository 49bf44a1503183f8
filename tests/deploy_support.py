"""Helpers for the tests of deploy/: the shipped files with their paths moved
to the test's folders, and the commands they name, run as systemd would run them.

The files under deploy/ name the production layout (/srv/marketplace, its
.venv, /var/log/supervisor, port 8080, shop.example.com). `localize` rewrites
exactly those parts and fails when one is missing, so a test always runs the
shipped file, not a copy that has drifted from it.
"""

import datetime
import http.client
import os
import re
import shlex
import signal
import ssl
import subprocess
from pathlib import Path

from tests.conftest import BIN, ROOT, descendants, handles_sighup, wait_for

DEPLOY = ROOT / "deploy"
APP = "/srv/marketplace"


def localize(text, replacements):
    """Apply (old, new, expected count) replacements; each must occur exactly as often as expected."""
    for old, new, count in replacements:
        found = text.count(old)
        assert found == count, f"expected {old!r} {count} time(s) in the shipped file, found {found}"
        text = text.replace(old, new)
    return text


def app_paths(text, data_dir=None):
    """The app's paths: the virtualenv's programs, the checkout, and data/."""
    text = text.replace(f"{APP}/.venv/bin/", f"{BIN}/")
    if data_dir is not None:
        text = text.replace(f"{APP}/data", str(data_dir))
    return text.replace(APP, str(ROOT))


def write_env_file(path, environ):
    """A settings file in the format of deploy/marketplace.env.example."""
    lines = [f"{key}={value}" for key, value in environ.items() if key not in ("PATH", "HOME")]
    path.write_text("\n".join(lines) + "\n")
    return path


def unit_settings(app_env, **extra):
    """The test's settings, plus what a unit needs to find the tests' sample jobs."""
    environ = dict(app_env.environ)
    environ["PYTHONPATH"] = str(ROOT)
    environ.update({k: str(v) for k, v in extra.items()})
    return environ


# ---------------------------------------------------------------------------
# systemd units, run the way systemd runs them
# ---------------------------------------------------------------------------


def read_unit(path):
    """{section: {key: [values]}} of a unit file; backslash-newline continues a line."""
    sections, current = {}, None
    text = Path(path).read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def unit_environment(unit, env_file_values):
    """Environment= assignments, overridden by the EnvironmentFile's, as systemd orders them."""
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    for value in unit["Service"].get("Environment", []):
        for assignment in shlex.split(value):
            key, _, val = assignment.partition("=")
            environ[key] = val
    environ.update(env_file_values)
    return environ


def expand_command(value, environ, main_pid=None):
    """A unit's command line as argv: ${NAME} is one word, $NAME splits, $MAINPID is the main process."""
    if main_pid is not None:
        environ = dict(environ, MAINPID=str(main_pid))
    argv = []
    for word in shlex.split(value):
        whole = re.fullmatch(r"\$(\w+)", word)
        if whole:
            argv.extend(environ.get(whole.group(1), "").split())
            continue
        argv.append(re.sub(r"\$\{(\w+)\}", lambda m: environ.get(m.group(1), ""), word))
    return argv


def localized_units(app_env, tmp_path):
    """The shipped units, pointed at this checkout, its virtualenv, the test's data and settings."""
    folder = tmp_path / "units"
    folder.mkdir()
    env_file = write_env_file(tmp_path / "marketplace.env", unit_settings(app_env))
    # systemd creates RuntimeDirectory= before the service starts.
    runtime = tmp_path / "run" / "marketplace-web"
    runtime.mkdir(parents=True)
    for unit in (DEPLOY / "systemd").iterdir():
        text = app_paths(unit.read_text(), data_dir=app_env.data_dir)
        text = text.replace(f"EnvironmentFile={ROOT}/.env", f"EnvironmentFile={env_file}")
        text = text.replace("XDG_RUNTIME_DIR=/run/marketplace-web", f"XDG_RUNTIME_DIR={runtime}")
        (folder / unit.name).write_text(text)
    return folder


class UnitProcess:
    """The ExecStart of a unit, started with its WorkingDirectory and environment."""

    def __init__(self, unit_path, env_file_values, log_path, wrapper=()):
        self.unit = read_unit(unit_path)
        service = self.unit["Service"]
        self.environ = unit_environment(self.unit, env_file_values)
        self.argv = expand_command(service["ExecStart"][0], self.environ)
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen([*wrapper, *self.argv], cwd=service["WorkingDirectory"][0],
                                        env=self.environ, stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def pid(self):
        return self.process.pid

    def output(self):
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_until_ready(self, pid=None):
        """A consumer is ready for KillSignal once Huey has installed its signal handlers."""
        pid = pid or self.pid
        wait_for(lambda: handles_sighup(pid) or self.process.poll() is not None,
                 message="the consumer's signal handlers")
        assert self.process.poll() is None, self.output()[-3000:]

    def reload(self):
        """Run ExecReload as systemd would, with $MAINPID."""
        argv = expand_command(self.unit["Service"]["ExecReload"][0], self.environ, main_pid=self.pid)
        subprocess.run(argv, check=True)

    def stop(self, timeout=None):
        """Send KillSignal and wait up to TimeoutStopSec; returns the exit code."""
        service = self.unit["Service"]
        signame = service.get("KillSignal", ["SIGTERM"])[0]
        timeout = timeout or float(service.get("TimeoutStopSec", ["90"])[0])
        if self.process.poll() is None:
            self.process.send_signal(getattr(signal, signame))
        try:
            return self.process.wait(timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(10)
            self.log.close()


def kill_tree(process):
    """SIGKILL a started process and every process below it, deepest first, then reap it."""
    for pid in descendants(process.pid) + [process.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(10)


# ---------------------------------------------------------------------------
# HTTP over TLS with the test's own certificate
# ---------------------------------------------------------------------------


def make_certificate(folder, names=("shop.example.com",)):
    """A self-signed certificate for `names` and 127.0.0.1; returns (cert path, key path)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.timezone.utc)
    alt = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


class Client:
    """Requests to one nginx port over TLS, trusting only the test's certificate."""

    def __init__(self, port, cert_path, source_address=None, tls=True):
        self.port = port
        self.source_address = source_address
        self.context = ssl.create_default_context(cafile=str(cert_path)) if tls else None

    def connection(self):
        source = (self.source_address, 0) if self.source_address else None
        if self.context is None:
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=source)
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=self.context,
                                           source_address=source)

    def request(self, method, path, body=None, headers=None, chunked=False):
        """(status, headers by lower-case name (repeated ones joined by newlines), body bytes)."""
        conn = self.connection()
        try:
            headers = {"Host": "shop.example.com", **(headers or {})}
            if chunked:
                conn.putrequest(method, path, skip_host=True)
                for name, value in headers.items():
                    conn.putheader(name, value)
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                for start in range(0, len(body), 1000):
                    piece = body[start:start + 1000]
                    conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                conn.send(b"0\r\n\r\n")
            else:
                conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            headers = {}
            for name, value in response.getheaders():
                name = name.lower()
                headers[name] = f"{headers[name]}\n{value}" if name in headers else value
            return response.status, headers, response.read()
        finally:
            conn.close()


def wait_for_http(client, path="/healthz", timeout=30):
    def answered():
        try:
            return client.request("GET", path)[0] < 500
        except OSError:
            return False

    wait_for(answered, timeout=timeout, message=f"an answer on port {client.port}")
