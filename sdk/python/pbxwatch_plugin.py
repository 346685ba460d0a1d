"""pbxwatch_plugin: write a pbxwatch check plugin in Python 3.

The agent runs a plugin as a child process and talks gRPC to it over
hashicorp/go-plugin's handshake (docs/protocol.md). This module does the
plugin's side of that, with nothing but Debian's python3-grpcio and
python3-protobuf (and the openssl command for the mutual TLS the agent
requires):

    import pbxwatch_plugin as pw

    class Check(pw.Checker):
        def configure(self, cfg):          # cfg: pw.Config
            self.host = cfg.get_str("host", "127.0.0.1")
        def check(self, deadline):         # deadline: time.time() seconds
            res = pw.Result(summary="fine")
            res.add_gauge("thing_up", "Whether thing answers.", 1)
            return res

    if __name__ == "__main__":
        pw.serve(Check())

Never print to stdout: it carries the handshake. Log with pw.log(...).
"""

import base64
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from concurrent import futures

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

# What the agent and plugin agree on (sdk/pluginwire in the Go code).
MAGIC_COOKIE_KEY = "PBXWATCH_PLUGIN"
MAGIC_COOKIE_VALUE = "7f3c9e1a-pbxwatch-check-plugin"
PROTOCOL_VERSION = 1  # the pbxwatch plugin protocol (APP-PROTOCOL-VERSION)
CORE_PROTOCOL_VERSION = 1  # go-plugin's own handshake version

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATUS_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}

# The FileDescriptorSet of sdk/proto/pbxwatch/plugin/v1/plugin.proto (the
# checked-in .proto), so no protoc is needed. A Go test checks it is the
# descriptor of the proto the agent is built from; regenerate it with
# `go test ./examples/python -run Descriptor -update`.
# BEGIN DESCRIPTOR
_DESCRIPTOR = (
    "CsYRCh9wYnh3YXRjaC9wbHVnaW4vdjEvcGx1Z2luLnByb3RvEhJwYnh3YXRjaC5wbHVnaW4udjEi"
    "tgIKEENvbmZpZ3VyZVJlcXVlc3QSHQoKY2hlY2tfbmFtZRgBIAEoCVIJY2hlY2tOYW1lEhsKCXN0"
    "YXRlX2RpchgCIAEoCVIIc3RhdGVEaXISHwoLY29uZmlnX3lhbWwYAyABKAxSCmNvbmZpZ1lhbWwS"
    "HwoLc291cmNlX2ZpbGUYBCABKAlSCnNvdXJjZUZpbGUSTAoIbGluZV9tYXAYBSADKAsyMS5wYnh3"
    "YXRjaC5wbHVnaW4udjEuQ29uZmlndXJlUmVxdWVzdC5MaW5lTWFwRW50cnlSB2xpbmVNYXASGgoI"
    "aW5zdGFuY2UYBiABKAlSCGluc3RhbmNlGjoKDExpbmVNYXBFbnRyeRIQCgNrZXkYASABKAVSA2tl"
    "eRIUCgV2YWx1ZRgCIAEoBVIFdmFsdWU6AjgBIisKEUNvbmZpZ3VyZVJlc3BvbnNlEhYKBmVycm9y"
    "cxgBIAMoCVIGZXJyb3JzIlgKDENoZWNrUmVxdWVzdBIsChJkZWFkbGluZV91bml4X25hbm8YASAB"
    "KANSEGRlYWRsaW5lVW5peE5hbm8SGgoIaW5zdGFuY2UYAiABKAlSCGluc3RhbmNlIisKDUZvcmdl"
    "dFJlcXVlc3QSGgoIaW5zdGFuY2UYASABKAlSCGluc3RhbmNlIhAKDkZvcmdldFJlc3BvbnNlIisK"
    "DUZvbGxvd1JlcXVlc3QSGgoIaW5zdGFuY2UYASABKAlSCGluc3RhbmNlIkIKDUZvbGxvd01lc3Nh"
    "Z2USMQoGZXZlbnRzGAEgAygLMhkucGJ4d2F0Y2gucGx1Z2luLnYxLkV2ZW50UgZldmVudHMilgIK"
    "CURpYWdub3NpcxISCgRjb2RlGAEgASgJUgRjb2RlEhoKCHNldmVyaXR5GAIgASgJUghzZXZlcml0"
    "eRIYCgdtZXNzYWdlGAMgASgJUgdtZXNzYWdlEiAKC3JlbWVkaWF0aW9uGAQgAygJUgtyZW1lZGlh"
    "dGlvbhJECgdkZXRhaWxzGAUgAygLMioucGJ4d2F0Y2gucGx1Z2luLnYxLkRpYWdub3Npcy5EZXRh"
    "aWxzRW50cnlSB2RldGFpbHMSGwoJbG9nX2V2ZW50GAYgASgJUghsb2dFdmVudBo6CgxEZXRhaWxz"
    "RW50cnkSEAoDa2V5GAEgASgJUgNrZXkSFAoFdmFsdWUYAiABKAlSBXZhbHVlOgI4ASKWAgoGTWV0"
    "cmljEhIKBG5hbWUYASABKAlSBG5hbWUSEgoEaGVscBgCIAEoCVIEaGVscBIzCgR0eXBlGAMgASgO"
    "Mh8ucGJ4d2F0Y2gucGx1Z2luLnYxLk1ldHJpYy5UeXBlUgR0eXBlEj4KBmxhYmVscxgEIAMoCzIm"
    "LnBieHdhdGNoLnBsdWdpbi52MS5NZXRyaWMuTGFiZWxzRW50cnlSBmxhYmVscxIUCgV2YWx1ZRgF"
    "IAEoAVIFdmFsdWUaOQoLTGFiZWxzRW50cnkSEAoDa2V5GAEgASgJUgNrZXkSFAoFdmFsdWUYAiAB"
    "KAlSBXZhbHVlOgI4ASIeCgRUeXBlEgkKBUdBVUdFEAASCwoHQ09VTlRFUhABIvEBCgVFdmVudBIS"
    "CgRuYW1lGAEgASgJUgRuYW1lEhoKCHNldmVyaXR5GAIgASgJUghzZXZlcml0eRIYCgdtZXNzYWdl"
    "GAMgASgJUgdtZXNzYWdlEj0KBmxhYmVscxgEIAMoCzIlLnBieHdhdGNoLnBsdWdpbi52MS5FdmVu"
    "dC5MYWJlbHNFbnRyeVIGbGFiZWxzEiQKDnRpbWVfdW5peF9uYW5vGAUgASgDUgx0aW1lVW5peE5h"
    "bm8aOQoLTGFiZWxzRW50cnkSEAoDa2V5GAEgASgJUgNrZXkSFAoFdmFsdWUYAiABKAlSBXZhbHVl"
    "OgI4ASKZAgoNQ2hlY2tSZXNwb25zZRIyCgZzdGF0dXMYASABKA4yGi5wYnh3YXRjaC5wbHVnaW4u"
    "djEuU3RhdHVzUgZzdGF0dXMSGAoHc3VtbWFyeRgCIAEoCVIHc3VtbWFyeRI7CglkaWFnbm9zZXMY"
    "AyADKAsyHS5wYnh3YXRjaC5wbHVnaW4udjEuRGlhZ25vc2lzUglkaWFnbm9zZXMSNAoHbWV0cmlj"
    "cxgEIAMoCzIaLnBieHdhdGNoLnBsdWdpbi52MS5NZXRyaWNSB21ldHJpY3MSMQoGZXZlbnRzGAUg"
    "AygLMhkucGJ4d2F0Y2gucGx1Z2luLnYxLkV2ZW50UgZldmVudHMSFAoFZXJyb3IYBiABKAlSBWVy"
    "cm9yKjgKBlN0YXR1cxIGCgJPSxAAEgsKB1dBUk5JTkcQARIMCghDUklUSUNBTBACEgsKB1VOS05P"
    "V04QAzLUAgoHQ2hlY2tlchJYCglDb25maWd1cmUSJC5wYnh3YXRjaC5wbHVnaW4udjEuQ29uZmln"
    "dXJlUmVxdWVzdBolLnBieHdhdGNoLnBsdWdpbi52MS5Db25maWd1cmVSZXNwb25zZRJMCgVDaGVj"
    "axIgLnBieHdhdGNoLnBsdWdpbi52MS5DaGVja1JlcXVlc3QaIS5wYnh3YXRjaC5wbHVnaW4udjEu"
    "Q2hlY2tSZXNwb25zZRJPCgZGb3JnZXQSIS5wYnh3YXRjaC5wbHVnaW4udjEuRm9yZ2V0UmVxdWVz"
    "dBoiLnBieHdhdGNoLnBsdWdpbi52MS5Gb3JnZXRSZXNwb25zZRJQCgZGb2xsb3cSIS5wYnh3YXRj"
    "aC5wbHVnaW4udjEuRm9sbG93UmVxdWVzdBohLnBieHdhdGNoLnBsdWdpbi52MS5Gb2xsb3dNZXNz"
    "YWdlMAFCRFpCZ2l0aHViLmNvbS9wYnh3YXRjaC9wYnh3YXRjaC9zZGsvcHJvdG8vcGJ4d2F0Y2gv"
    "cGx1Z2luL3YxO3BsdWdpbnYxYgZwcm90bzM="
)
# END DESCRIPTOR


def _message_classes():
    fds = descriptor_pb2.FileDescriptorSet.FromString(base64.b64decode(_DESCRIPTOR))
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    classes = {}
    for name in ("ConfigureRequest", "ConfigureResponse", "CheckRequest", "CheckResponse",
                 "Diagnosis", "Metric", "Event"):
        desc = pool.FindMessageTypeByName("pbxwatch.plugin.v1." + name)
        if hasattr(message_factory, "GetMessageClass"):
            classes[name] = message_factory.GetMessageClass(desc)
        else:  # protobuf < 4.22
            classes[name] = message_factory.MessageFactory(pool).GetPrototype(desc)
    return classes


_pb = _message_classes()

# ---------------------------------------------------------------- logging


def log(level, msg, **attrs):
    """Log one JSON line to stderr; the agent re-logs it at this level
    ("debug", "info", "warn", "error") with the attributes, tagged with the
    check. Registered secrets are scrubbed."""
    rec = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": level.upper(),
           "msg": scrub(msg)}
    for k, v in attrs.items():
        rec[k] = scrub(v) if isinstance(v, str) else v
    try:
        sys.stderr.write(json.dumps(rec) + "\n")
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        pass


# ---------------------------------------------------------------- secrets

_secrets = []
_secrets_lock = threading.Lock()


def register_secret(value):
    """Never let value leave the plugin: it becomes <secret> in every
    result, error and log line. Values under 4 bytes are ignored."""
    if not value or len(value) < 4:
        return
    # Also the forms a careless repr() or JSON encoding would give it.
    forms = {value, repr(value)[1:-1], json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    with _secrets_lock:
        for v in sorted(forms, key=len, reverse=True):
            if v not in _secrets:
                _secrets.append(v)


def scrub(s):
    with _secrets_lock:
        for v in _secrets:
            s = s.replace(v, "<secret>")
    return s


def load_secret(name, inline, file):
    """Resolve `name:` or `name_file:` as the Go SDK does (sdk.LoadSecret):
    exactly one set; a relative file is looked up in systemd's
    $CREDENTIALS_DIRECTORY; surrounding whitespace trimmed; registered."""
    if inline and file:
        raise ValueError("%s and %s_file are both set: keep one" % (name, name))
    if inline:
        register_secret(inline)
        return inline
    if not file:
        raise ValueError("%s is missing: set %s_file (a file holding it) or %s" % (name, name, name))
    path = file
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    if creds and not os.path.isabs(path):
        path = os.path.join(creds, path)
    try:
        with open(path, encoding="utf-8") as fh:
            value = fh.read().strip()
    except OSError as e:
        raise ValueError("%s_file: %s (the service user must be able to read it)" % (name, e.strerror)) from None
    if not value:
        raise ValueError("%s_file %s is empty" % (name, path))
    register_secret(value)
    return value


# ---------------------------------------------------------------- config


class ConfigError(Exception):
    """Raise from configure(); each line of the message is one problem."""


class Config:
    """The check's `config:` block. Only flat `key: value` lines are read
    (strings, numbers, booleans), so no YAML library is needed; anything
    else is a config error naming the line of the agent's config file."""

    def __init__(self, req):
        self.check_name = req.check_name
        self.state_dir = req.state_dir
        self._source = req.source_file
        self._lines = dict(req.line_map)
        self._values = {}  # key -> (value, line in the block)
        self._used = set()
        self.problems = []
        self._parse(req.config_yaml.decode("utf-8", "replace"))

    def position(self, line):
        orig = self._lines.get(line)
        if orig is not None and self._source:
            return "%s:%d" % (self._source, orig)
        return "line %d" % (orig if orig is not None else line)

    def error(self, key, msg):
        """Record a problem with key's line."""
        line = self._values.get(key, (None, 0))[1]
        self.problems.append("%s: %s" % (self.position(line), msg) if line else msg)

    def _parse(self, text):
        for n, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#") or line in ("{}", "---"):
                continue
            m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$", raw)
            if not m or raw.startswith((" ", "\t")):
                self.problems.append("%s: only flat `key: value` settings are understood here" % self.position(n))
                continue
            key, value = m.group(1), m.group(2).strip()
            if value.startswith(("'", '"')):
                try:
                    value = json.loads(value) if value.startswith('"') else value[1:-1].replace("''", "'")
                except ValueError:
                    self.problems.append("%s: %s: bad quoted string" % (self.position(n), key))
                    continue
            self._values[key] = (value, n)

    def get_str(self, key, default=None):
        self._used.add(key)
        v = self._values.get(key)
        return default if v is None else v[0]

    def get_int(self, key, default, lo=None, hi=None):
        self._used.add(key)
        v = self._values.get(key)
        if v is None:
            return default
        try:
            n = int(v[0])
        except ValueError:
            self.error(key, "%s must be a whole number, not %r" % (key, v[0]))
            return default
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            self.error(key, "%s must be between %s and %s" % (key, lo, hi))
        return n

    def get_float(self, key, default, lo=None):
        self._used.add(key)
        v = self._values.get(key)
        if v is None:
            return default
        try:
            x = float(v[0])
        except ValueError:
            self.error(key, "%s must be a number, not %r" % (key, v[0]))
            return default
        if lo is not None and x < lo:
            self.error(key, "%s must be at least %s" % (key, lo))
        return x

    def unknown_keys(self):
        """Report every key no get_* asked for (strict decoding, like Go's)."""
        for key, (_, line) in sorted(self._values.items(), key=lambda kv: kv[1][1]):
            if key not in self._used:
                self.problems.append('%s: unknown key "%s"' % (self.position(line), key))


# ---------------------------------------------------------------- results


class Result:
    """What one run returns; mirrors sdk.Result."""

    def __init__(self, status=OK, summary=""):
        self.status = status
        self.summary = summary
        self.diagnoses = []
        self.metrics = []

    def diagnose(self, code, severity, message, remediation=(), details=None, log_event=""):
        """Add a diagnosis; severity "info", "warning" or "critical" raises
        the status as the Go SDK's Result.Diagnose does. log_event names the
        log events the diagnosis stands for (sdk.Diagnosis.LogEvent): the
        agent then alerts on it as PbxwatchLogEvent, not as a failing check."""
        self.diagnoses.append((code, severity, message, list(remediation), dict(details or {}), log_event))
        implied = {"warning": WARNING, "critical": CRITICAL}.get(severity, OK)
        rank = {OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3}
        if rank[implied] > rank[self.status]:
            self.status = implied

    def add_gauge(self, name, help, value, labels=None):
        self.metrics.append((name, help, 0, dict(labels or {}), float(value)))

    def add_counter(self, name, help, value, labels=None):
        self.metrics.append((name, help, 1, dict(labels or {}), float(value)))

    def to_wire(self):
        resp = _pb["CheckResponse"](status=self.status if self.status in STATUS_NAMES else UNKNOWN,
                                   summary=scrub(self.summary))
        for code, sev, msg, rem, details, log_event in self.diagnoses:
            d = resp.diagnoses.add(code=code, severity=sev, message=scrub(msg), log_event=log_event)
            d.remediation.extend(scrub(s) for s in rem)
            for k, v in details.items():
                d.details[k] = scrub(str(v))
        for name, help, typ, labels, value in self.metrics:
            m = resp.metrics.add(name=name, help=help, type=typ, value=value)
            for k, v in labels.items():
                m.labels[k] = scrub(str(v))
        return resp


class Checker:
    """Implement configure(cfg) and check(deadline) -> Result."""

    def configure(self, cfg):
        pass

    def check(self, deadline):
        raise NotImplementedError


# ---------------------------------------------------------------- transport

_OK_HEALTH = b"\x08\x01"  # grpc.health.v1.HealthCheckResponse{status: SERVING}


def _identity(b):
    return b


def _health_check(request, context):
    # HealthCheckRequest{service = 1}; go-plugin asks for "plugin".
    service = ""
    if len(request) >= 2 and request[0] == 0x0A:
        service = request[2:2 + request[1]].decode("utf-8", "replace")
    if service not in ("", "plugin"):
        context.abort(grpc.StatusCode.NOT_FOUND, "unknown service " + service)
    return _OK_HEALTH


class _Server:
    def __init__(self, checker):
        self.checker = checker
        self.lock = threading.Lock()  # runs never overlap, as in the Go SDK
        self.stop = threading.Event()

    def configure(self, req, context):
        try:
            cfg = Config(req)
            try:
                self.checker.configure(cfg)
            except ConfigError as e:
                cfg.problems.extend(line for line in str(e).splitlines() if line.strip())
            except ValueError as e:
                cfg.problems.append(str(e))
            cfg.unknown_keys()
            return _pb["ConfigureResponse"](errors=[scrub(p) for p in cfg.problems])
        except Exception as e:  # a bug in the plugin: say so, keep serving
            log("error", "configure raised", error=repr(e), stack=traceback.format_exc())
            return _pb["ConfigureResponse"](errors=[scrub("plugin raised in configure: %r" % e)])

    def check(self, req, context):
        deadline = req.deadline_unix_nano / 1e9 if req.deadline_unix_nano else time.time() + 30
        with self.lock:
            try:
                res = self.checker.check(deadline)
                if res is None:
                    return _pb["CheckResponse"](status=UNKNOWN, error="plugin returned no result")
                return res.to_wire()
            except Exception as e:
                log("error", "check raised", error=repr(e), stack=traceback.format_exc())
                return _pb["CheckResponse"](status=UNKNOWN, error=scrub("plugin raised: %r" % e))

    def shutdown(self, request, context):
        self.stop.set()
        return b""


def _handlers(srv):
    checker = grpc.method_handlers_generic_handler("pbxwatch.plugin.v1.Checker", {
        "Configure": grpc.unary_unary_rpc_method_handler(
            srv.configure, request_deserializer=_pb["ConfigureRequest"].FromString,
            response_serializer=lambda m: m.SerializeToString()),
        "Check": grpc.unary_unary_rpc_method_handler(
            srv.check, request_deserializer=_pb["CheckRequest"].FromString,
            response_serializer=lambda m: m.SerializeToString()),
    })
    health = grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
        "Check": grpc.unary_unary_rpc_method_handler(
            _health_check, request_deserializer=_identity, response_serializer=_identity),
    })
    controller = grpc.method_handlers_generic_handler("plugin.GRPCController", {
        "Shutdown": grpc.unary_unary_rpc_method_handler(
            srv.shutdown, request_deserializer=_identity, response_serializer=_identity),
    })
    return [checker, health, controller]


def _negotiate_version():
    """go-plugin's client lists the versions it accepts in
    PLUGIN_PROTOCOL_VERSIONS; this plugin speaks PROTOCOL_VERSION only."""
    offered = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", "")
    if offered and str(PROTOCOL_VERSION) not in offered.split(","):
        sys.stderr.write("this plugin speaks pbxwatch plugin protocol %d; the agent offers %s: "
                         "update the plugin\n" % (PROTOCOL_VERSION, offered))
        sys.exit(1)


def _server_tls(tmp):
    """AutoMTLS as go-plugin does it: the agent passes its certificate in
    PLUGIN_CLIENT_CERT; the plugin makes its own (CN and SAN localhost),
    trusts only the agent's, and returns its own DER certificate,
    base64 without padding, in the handshake line."""
    client_pem = os.environ.get("PLUGIN_CLIENT_CERT", "")
    if not client_pem:
        return None, ""
    openssl = shutil.which("openssl") or "/usr/bin/openssl"
    key, crt = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "3650", "-subj", "/CN=localhost", "-keyout", key, "-out", crt,
                    "-addext", "subjectAltName=DNS:localhost",
                    "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
                    "-addext", "extendedKeyUsage=serverAuth,clientAuth",
                    "-addext", "basicConstraints=critical,CA:TRUE"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with open(key, "rb") as fh:
        key_pem = fh.read()
    with open(crt, "rb") as fh:
        cert_pem = fh.read()
    os.unlink(key)
    creds = grpc.ssl_server_credentials([(key_pem, cert_pem)], root_certificates=client_pem.encode(),
                                        require_client_auth=True)
    der = ssl.PEM_cert_to_DER_cert(cert_pem.decode())
    return creds, base64.b64encode(der).decode().rstrip("=")


def _exit_when_orphaned(parent, srv, tmp):
    # go-plugin leaves plugins running when the agent is SIGKILLed; the
    # agent is our parent, so its disappearance ends us and every process
    # we started (we lead our process group), as in the Go SDK. No log
    # line: stderr was a pipe to the dead agent.
    while not srv.stop.wait(0.5):
        if os.getppid() != parent:
            shutil.rmtree(tmp, ignore_errors=True)
            if os.getpgid(0) == os.getpid():
                os.killpg(os.getpid(), signal.SIGKILL)
            os._exit(1)


def serve(checker):
    """Serve checker to the agent until it shuts the plugin down. Run by
    hand, it explains that it is a plugin and exits 1."""
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        sys.stderr.write("This is a pbxwatch check plugin: the pbxwatch agent runs it.\n"
                         "Configure a check with its plugin name and try `pbxwatch check NAME`.\n")
        sys.exit(1)
    # The agent's pid, read before the handshake: an agent killed right
    # after reading the handshake line must still be noticed as gone.
    parent = os.getppid()
    _negotiate_version()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is the agent's
    tmp = tempfile.mkdtemp(prefix="plugin", dir=os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or None)
    sock = os.path.join(tmp, "plugin.sock")
    srv = _Server(checker)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=_handlers(srv))
    try:
        creds, cert = _server_tls(tmp)
    except (OSError, subprocess.CalledProcessError) as e:
        sys.stderr.write("cannot make the TLS certificate the agent requires (AutoMTLS) with openssl: %s\n" % e)
        sys.exit(1)
    if creds is None:
        server.add_insecure_port("unix:" + sock)
    else:
        server.add_secure_port("unix:" + sock, creds)
    server.start()
    # The handshake line: CORE|APP|NETWORK|ADDRESS|PROTOCOL|SERVER-CERT.
    sys.stdout.write("%d|%d|unix|%s|grpc|%s\n" % (CORE_PROTOCOL_VERSION, PROTOCOL_VERSION, sock, cert))
    sys.stdout.flush()
    threading.Thread(target=_exit_when_orphaned, args=(parent, srv, tmp), daemon=True).start()
    srv.stop.wait()
    server.stop(grace=1).wait()
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0)
