"""Building blocks of the end-to-end suites: a private Postfix instance, a
fake remote MX that answers per recipient, the milter under test, and the
store probe. Everything listens on 127.0.0.1 on ports chosen at run time; the
suites run inside `unshare -n` (run_suite.sh), so nothing can leave the host.

Paths come from the environment, set by tests/e2e/CMakeLists.txt:
  BM_MILTER      the bounce-milter binary
  BM_STORE_PROBE the e2e_store_probe binary
  BM_SOURCE_DIR  the source tree (rules/default.rules, test data)
"""

import json
import os
import shutil
import signal
import smtplib
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import unittest

DEADLINE = 40.0  # seconds any single condition may take


def wait_for(condition, timeout=DEADLINE, what="condition", interval=0.1):
    """Polls condition() until it returns a true value; fails after timeout."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def make_workdir(prefix):
    """A temp dir that users postfix and nobody can search (mkdtemp is 0700)."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return d


# ---------------------------------------------------------------------------
# Fake remote MX


class FakeMx:
    """SMTP server that answers RCPT per recipient and keeps what it got.

    replies: {address (lower-case): "550 5.1.1 text"}; others get 250.
    received: list of (sender, [recipients], raw message bytes).
    """

    def __init__(self):
        self.replies = {}
        self.received = []
        self.lock = threading.Lock()
        self.port = free_port()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line):
                self.wfile.write((line + "\r\n").encode())

            def handle(self):
                self.reply("220 mx.remote.test ESMTP fake")
                sender, rcpts = None, []
                while True:
                    line = self.rfile.readline(4096)
                    if not line:
                        return
                    cmd = line.decode("latin-1").rstrip("\r\n")
                    verb = cmd[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 mx.remote.test")
                    elif verb == "MAIL":
                        sender, rcpts = cmd[10:].strip().strip("<>").split(">")[0], []
                        self.reply("250 2.1.0 ok")
                    elif verb == "RCPT":
                        addr = cmd[8:].strip().split(">")[0].strip("<").lower()
                        answer = outer.replies.get(addr, "250 2.1.5 ok")
                        if answer.startswith("250"):
                            rcpts.append(addr)
                        self.reply(answer)
                    elif verb == "DATA":
                        self.reply("354 go ahead")
                        data = []
                        while True:
                            l = self.rfile.readline(1 << 20)
                            if not l or l in (b".\r\n", b".\n"):
                                break
                            data.append(l[1:] if l.startswith(b"..") else l)
                        with outer.lock:
                            outer.received.append((sender, list(rcpts), b"".join(data)))
                        self.reply("250 2.0.0 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 ok")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def messages_for(self, address):
        with self.lock:
            return [m for m in self.received if address.lower() in m[1]]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------
# Private Postfix

MASTER_CF = """\
{smtp_addr} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    """A Postfix instance under workdir/postfix, relaying everything to the fake MX."""

    def __init__(self, workdir, mx_port, milter, default_action="accept", extra=None):
        """milter: the milter's port on 127.0.0.1, or a Postfix socket spec "unix:/path"."""
        milter_spec = milter if isinstance(milter, str) else "inet:127.0.0.1:%d" % milter
        self.dir = os.path.join(workdir, "postfix")
        self.etc = os.path.join(self.dir, "etc")
        self.port = free_port()
        os.makedirs(self.etc)
        for sub in ("queue", "data"):
            os.makedirs(os.path.join(self.dir, sub))
        shutil.chown(os.path.join(self.dir, "data"), "postfix", "postfix")
        self.maillog = os.path.join(self.dir, "maillog")
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": os.path.join(self.dir, "queue"),
            "data_directory": os.path.join(self.dir, "data"),
            "maillog_file": self.maillog,
            "maillog_file_prefixes": "/tmp, " + workdir,
            "myhostname": "mta.test",
            "mydomain": "mta.test",
            "myorigin": "mta.test",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "relayhost": "[127.0.0.1]:%d" % mx_port,
            "smtp_dns_support_level": "disabled",
            "disable_dns_lookups": "yes",
            "smtpd_peername_lookup": "no",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "smtpd_relay_restrictions": "permit_mynetworks, reject",
            "smtpd_milters": milter_spec,
            "non_smtpd_milters": milter_spec,
            "milter_default_action": default_action,
            "internal_mail_filter_classes": "bounce",
            "milter_connect_timeout": "5s",
            "milter_command_timeout": "10s",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "maximal_queue_lifetime": "8s",
            "bounce_queue_lifetime": "8s",
            "delay_warning_time": "0",
            "smtp_connect_timeout": "5s",
            "smtpd_error_sleep_time": "0",
            "smtpd_soft_error_limit": "1000",
            "smtpd_hard_error_limit": "1000",
            "notify_classes": "",
        }
        settings.update(extra or {})
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(smtp_addr="127.0.0.1:%d" % self.port))

    def start(self):
        out = subprocess.run(["postfix", "-c", self.etc, "start"], capture_output=True,
                             text=True)
        if out.returncode != 0:
            raise AssertionError("postfix start failed:\n%s%s%s" % (out.stdout, out.stderr,
                                                                      self.log()))
        wait_for(lambda: port_open(self.port), what="postfix smtpd to listen")

    def stop(self):
        subprocess.run(["postfix", "-c", self.etc, "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def queue_empty(self):
        out = subprocess.run(["postqueue", "-c", self.etc, "-j"], capture_output=True,
                             text=True).stdout
        return out.strip() == ""

    def smtp(self):
        return smtplib.SMTP("127.0.0.1", self.port, timeout=30)


# ---------------------------------------------------------------------------
# The milter under test


class Milter:
    def __init__(self, workdir, settings=None, name="milter"):
        self.workdir = workdir
        self.port = free_port()
        self.store = os.path.join(workdir, "store")
        self.conf = os.path.join(workdir, name + ".conf")
        self.logfile = os.path.join(workdir, name + ".log")
        self.proc = None
        self.settings = {
            "Socket": "inet:%d@127.0.0.1" % self.port,
            "StorePath": self.store,
            "StoreRetryInterval": "1",
            "LogLevel": "debug",
            # Most suites send unsigned bounces for mail the milter never saw;
            # record them as before issue 5 (test_security.py tests the default).
            "UnverifiedBounces": "record",
        }
        self.settings.update(settings or {})
        self.write_conf()

    def write_conf(self, text=None):
        with open(self.conf, "w") as f:
            if text is not None:
                f.write(text)
            else:
                for k, v in self.settings.items():
                    f.write("%s %s\n" % (k, v))

    def start(self):
        log = open(self.logfile, "a")
        self.proc = subprocess.Popen([os.environ["BM_MILTER"], "-f", "-c", self.conf],
                                     stdout=log, stderr=log)
        log.close()
        wait_for(lambda: self.listening() or self.proc.poll() is not None,
                 what="milter to listen")
        if self.proc.poll() is not None:
            raise AssertionError("milter exited at start:\n" + self.log())

    def unix_socket(self):
        spec = self.settings["Socket"]
        return spec.split(":", 1)[1] if spec.startswith("unix:") else None

    def listening(self):
        path = self.unix_socket()
        return os.path.exists(path) if path else port_open(self.port)

    def reload(self):
        before = self.log().count("reload")
        self.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: self.log().count("reload") > before, what="milter to log the reload")

    def stop(self):
        """SIGTERM; returns the exit status (0 = clean, and no sanitizer report)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("milter did not stop on SIGTERM")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def log(self):
        with open(self.logfile, errors="replace") as f:
            return f.read()

    def log_has(self, text):
        return text in self.log()


# ---------------------------------------------------------------------------
# The store, read and written through the store API (e2e_store_probe)


def store_probe(*args):
    out = subprocess.run([os.environ["BM_STORE_PROBE"], *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError("store probe %s failed: %s" % (args, out.stderr))
    return json.loads(out.stdout) if out.stdout.strip() else None


def store_record(store, address):
    """The address record as a dict, or None when the address is unknown."""
    if not os.path.exists(os.path.join(store, "data.mdb")):
        return None
    return store_probe("show", store, address)


# ---------------------------------------------------------------------------
# Messages

def dsn(reporting_mta, recipient, status, diagnostic, original_id="orig-1@mta.test"):
    """An RFC 3464 delivery status notification, as a remote MTA sends it."""
    return (
        "From: MAILER-DAEMON@{mta}\r\n"
        "To: sender@mta.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-{rand}@{mta}>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
        "\r\n"
        "--B\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "Your message could not be delivered.\r\n"
        "--B\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; {mta}\r\n"
        "\r\n"
        "Final-Recipient: rfc822; {rcpt}\r\n"
        "Action: failed\r\n"
        "Status: {status}\r\n"
        "Diagnostic-Code: smtp; {diag}\r\n"
        "--B\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        "Message-ID: <{orig}>\r\n"
        "From: sender@mta.test\r\n"
        "To: {rcpt}\r\n"
        "Subject: hello\r\n"
        "--B--\r\n"
    ).format(mta=reporting_mta, rcpt=recipient, status=status, diag=diagnostic,
             orig=original_id, rand=os.urandom(4).hex())


def plain_message(sender, recipients, subject="hello", body="hello\r\n"):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@mta.test>\r\n\r\n%s"
            % (sender, ", ".join(recipients), subject, os.urandom(6).hex(), body))


class MailFlowSuite(unittest.TestCase):
    """Base of suites whose setUpClass starts cls.mx, cls.milter and cls.postfix."""

    @classmethod
    def tearDownClass(cls):
        cls.postfix.stop()
        status = cls.milter.stop()
        cls.mx.stop()
        if status != 0:
            raise AssertionError("milter exited with %s:\n%s" % (status, cls.milter.log()[-6000:]))

    def diagnostics(self):
        """The tails of both logs, for assertion messages."""
        return "\n--- milter log ---\n%s\n--- postfix log ---\n%s" % (
            self.milter.log()[-6000:], self.postfix.log()[-6000:])
