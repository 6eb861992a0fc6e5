"""End-to-end: bounce-milter inside a real Sendmail, the second MTA issue 4
names as an independent milter client.

Sendmail conflicts with Postfix as a Debian package, so `scripts/install-deps
--test` unpacks sendmail-bin and sendmail-cf (`apt-get download`, `dpkg -x`)
into SENDMAIL_ROOT instead of installing them. The test builds a sendmail.cf
with m4 from a .mc that includes contrib/sendmail.mc itself (its
INPUT_MAIL_FILTER line pointed at the test's unix socket), and runs a private
`sendmail -bD` on a free loopback port with its queue in a temp dir. Sendmail
runs in mount and UTS namespaces of its own: hostname sendmail.test, its own
/etc/hosts and resolv.conf (it would otherwise qualify the machine's name
through DNS and sleep a minute), and a private /dev whose /dev/log is the
test's syslog sink, so Sendmail's log can be shown on failure. The suite
itself runs inside `unshare -n` (run_suite.sh) like the Postfix suites.

Sendmail's own DSNs do not pass through milters; test_6 pins that down,
since the manual tells Sendmail users the daemon learns only from bounces
arriving over SMTP.
"""

import contextlib
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import threading
import unittest

from harness import (FakeMx, Milter, dsn, free_port, make_workdir, plain_message,
                     port_open, store_probe, store_record, wait_for)
from test_security import write_keys

SENDMAIL_ROOT = os.environ.get("BM_SENDMAIL_ROOT", "/opt/bounce-milter-test/sendmail")
SENDMAIL = os.path.join(SENDMAIL_ROOT, "usr/libexec/sendmail/sendmail")
CF_DIR = os.path.join(SENDMAIL_ROOT, "usr/share/sendmail/cf")
HOSTNAME = "sendmail.test"  # Sendmail's own (local) domain

SENDER = "news@mta.test"  # not local: its mail goes to the fake MX too
SIGNED_SENDER = "signed@mta.test"  # its return path is signed (SignSenders)
VERP = re.compile(r"^bounces\+[a-z2-7]{13}\+(.+)=(.+)@mta\.test$")
OTHER = "sm-still-here@remote.test"

# Runs Sendmail in new mount and UTS namespaces: own hostname, hosts and
# resolv.conf, and a /dev holding only what Sendmail uses plus the test's
# syslog socket. usage: sh -c SANDBOX sh DIR HOSTNAME COMMAND...
SANDBOX = r"""set -e
dir=$1 name=$2
shift 2
hostname "$name"
mount --bind "$dir/hosts" /etc/hosts
mount --bind "$dir/resolv.conf" /etc/resolv.conf
for n in null zero random urandom; do
  : > "$dir/dev/$n"
  mount --bind "/dev/$n" "$dir/dev/$n"
done
mount --rbind "$dir/dev" /dev
exec "$@"
"""

# The site part of the test's sendmail.mc; contrib/sendmail.mc follows it.
MC_TEMPLATE = """\
divert(-1)dnl
bounce-milter e2e_sendmail: a private Sendmail relaying everything that is
not {hostname} to the fake MX on 127.0.0.1:{mx_port}, never using DNS.
divert(0)dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `{hostname}')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confSERVICE_SWITCH_FILE', `{dir}/service.switch')dnl
define(`confHOSTS_FILE', `{dir}/hosts')dnl
define(`QUEUE_DIR', `{dir}/queue')dnl
define(`confPID_FILE', `{dir}/sendmail.pid')dnl
define(`STATUS_FILE', `{dir}/statistics')dnl
define(`HELP_FILE', `{dir}/helpfile')dnl
define(`ALIAS_FILE', `')dnl
define(`confLOG_LEVEL', `14')dnl
dnl The work dir is under /tmp: trust its sticky bit, or Sendmail refuses the
dnl milter socket as unsafe.
define(`confDONT_BLAME_SENDMAIL', `TrustStickyBit')dnl
define(`confTO_CONNECT', `5s')dnl
define(`confTO_INITIAL', `5s')dnl
define(`SMART_HOST', `esmtp:[127.0.0.1]')dnl
define(`ESMTP_MAILER_ARGS', `TCP $h {mx_port}')dnl
FEATURE(`no_default_msa')dnl
FEATURE(`nocanonify')dnl
FEATURE(`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(`Port={port}, Addr=127.0.0.1, Name=MTA')dnl
"""

CONTRIB_MC = os.path.join(os.environ.get("BM_SOURCE_DIR", ""), "contrib", "sendmail.mc")


def contrib_snippet(milter_socket):
    """contrib/sendmail.mc as an administrator would paste it, with the socket
    of its INPUT_MAIL_FILTER line replaced by milter_socket."""
    with open(CONTRIB_MC) as f:
        text = f.read()
    lines = [l for l in text.splitlines() if l.startswith("INPUT_MAIL_FILTER(")]
    if len(lines) != 1:
        raise AssertionError("%s: expected one INPUT_MAIL_FILTER line, found %d"
                             % (CONTRIB_MC, len(lines)))
    line, n = re.subn(r"S=[^,']+", "S=" + milter_socket, lines[0])
    if n != 1:
        raise AssertionError("%s: no S= socket in %r" % (CONTRIB_MC, lines[0]))
    return text.replace(lines[0], line)


def require_sendmail():
    """Fails (never skips) when the unpacked Sendmail or m4 is missing."""
    for path, what in ((SENDMAIL, "Sendmail"),
                       (os.path.join(CF_DIR, "m4", "cf.m4"), "Sendmail's cf files")):
        if not os.path.exists(path):
            raise AssertionError("%s not found at %s: run `scripts/install-deps --test`, which "
                                 "unpacks sendmail-bin and sendmail-cf there" % (what, path))
    if shutil.which("m4") is None:
        raise AssertionError("m4 not found: run `scripts/install-deps --test`")


class SyslogSink:
    """A unix datagram socket standing in for /dev/log; keeps what arrives."""

    def __init__(self, path):
        self.lines = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        os.chmod(path, 0o666)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopped.is_set():
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            with self.lock:
                self.lines.append(data.decode("utf-8", "replace"))

    def text(self):
        with self.lock:
            return "\n".join(self.lines)

    def stop(self):
        self.stopped.set()
        self.thread.join()
        self.sock.close()


class Sendmail:
    """A private Sendmail daemon under workdir/sendmail (see the module doc)."""

    def __init__(self, workdir, mx_port, milter_socket):
        self.dir = os.path.join(workdir, "sendmail")
        self.port = free_port()
        self.proc = None
        for sub in ("queue", "dev"):
            os.makedirs(os.path.join(self.dir, sub))
        files = {
            "hosts": "127.0.0.1 %s localhost\n" % HOSTNAME,
            # Nothing listens on port 53 in the test's network namespace:
            # a query that slips through fails at once.
            "resolv.conf": "nameserver 127.0.0.1\n",
            "service.switch": "hosts files\naliases files\n",
            "statistics": "",
            "helpfile": "",
            "stdout": "",
        }
        for name, text in files.items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        self.syslog = SyslogSink(os.path.join(self.dir, "dev", "log"))
        mc = os.path.join(self.dir, "sendmail.mc")
        with open(mc, "w") as f:
            f.write(MC_TEMPLATE.format(hostname=HOSTNAME, dir=self.dir, mx_port=mx_port,
                                       port=self.port))
            f.write(contrib_snippet(milter_socket))
            f.write("MAILER(`local')dnl\nMAILER(`smtp')dnl\n")
        self.cf = os.path.join(self.dir, "sendmail.cf")
        out = subprocess.run(["m4", "-D_CF_DIR_=%s/" % CF_DIR,
                              os.path.join(CF_DIR, "m4", "cf.m4"), mc],
                             capture_output=True, text=True)
        if out.returncode != 0 or out.stderr:
            raise AssertionError("m4 failed on %s:\n%s" % (mc, out.stderr))
        with open(self.cf, "w") as f:
            f.write(out.stdout)

    def start(self):
        with open(os.path.join(self.dir, "stdout"), "w") as out:
            self.proc = subprocess.Popen(
                ["unshare", "-m", "-u", "sh", "-c", SANDBOX, "sh", self.dir, HOSTNAME,
                 SENDMAIL, "-C", self.cf, "-bD"], stdout=out, stderr=out)
        wait_for(lambda: port_open(self.port) or self.proc.poll() is not None,
                 what="sendmail to listen")
        if self.proc.poll() is not None:
            raise AssertionError("sendmail exited at start:\n" + self.log())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.syslog.stop()

    def log(self):
        """Sendmail's output (start-up errors) and its syslog messages."""
        with open(os.path.join(self.dir, "stdout"), errors="replace") as f:
            return f.read() + self.syslog.text()

    def smtp(self):
        return smtplib.SMTP("127.0.0.1", self.port, timeout=30)


class SendmailFlows(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_sendmail()
        cls.work = make_workdir("bm-e2e-sendmail-")
        cls.mx = FakeMx()
        cls.addClassCleanup(cls.mx.stop)
        # The deployment shape: the daemon runs as UserID, its socket (in a
        # directory Sendmail considers safe) is handed to that user, mode 0660.
        os.makedirs(os.path.join(cls.work, "run"))
        sock = os.path.join(cls.work, "run", "bounce-milter.sock")
        os.makedirs(os.path.join(cls.work, "store"))
        shutil.chown(os.path.join(cls.work, "store"), "nobody", "nogroup")
        keys = os.path.join(cls.work, "return-path.keys")
        write_keys(keys)
        shutil.chown(keys, "nobody", "nogroup")
        cls.milter = Milter(cls.work, {
            "Socket": "unix:" + sock,
            "UserID": "nobody",
            "ReturnPathKeys": keys,
            "SignSenders": SIGNED_SENDER,
            "BounceAddresses": "bounces+*@mta.test",
        })
        cls.milter.start()
        cls.addClassCleanup(cls.stop_milter)
        cls.sendmail = Sendmail(cls.work, cls.mx.port, "local:" + sock)
        cls.addClassCleanup(cls.sendmail.stop)
        cls.sendmail.start()

    @classmethod
    def stop_milter(cls):
        status = cls.milter.stop()
        if status != 0:
            raise AssertionError("milter exited with %s:\n%s" % (status, cls.milter.log()[-6000:]))

    @contextlib.contextmanager
    def reconfigured(self, settings):
        """The milter with settings changed (SIGHUP), restored afterwards."""
        before = dict(self.milter.settings)
        self.milter.settings.update(settings)
        self.milter.write_conf()
        self.milter.reload()
        try:
            yield
        finally:
            self.milter.settings = before
            self.milter.write_conf()
            self.milter.reload()

    def send(self, recipients, sender=SENDER, message=None):
        """Returns the refused recipients {address: (code, text)}."""
        with self.sendmail.smtp() as smtp:
            try:
                return smtp.sendmail(sender, recipients,
                                     message or plain_message(sender, recipients))
            except smtplib.SMTPRecipientsRefused as e:  # all of them
                return e.recipients

    def rcpt_reply(self, recipient):
        with self.sendmail.smtp() as smtp:
            smtp.mail(SENDER)
            return smtp.rcpt(recipient)

    def wait_suppressed(self, address, what):
        try:
            return wait_for(lambda: (lambda r: r if r and r["state"] == "suppressed" else None)(
                store_record(self.milter.store, address)), what=what)
        except AssertionError as e:
            raise AssertionError(str(e) + self.diagnostics())

    def delivered_to_sender(self, text):
        """The messages the fake MX got for SENDER that contain text."""
        return [m for m in self.mx.messages_for(SENDER) if text.encode() in m[2]]

    def test_1_dsn_over_smtp_is_ingested_and_tagged(self):
        gone = "sm-gone@remote.test"
        message = dsn("mx.remote.test", gone, "5.1.1", "550 5.1.1 <%s>: user unknown" % gone)
        self.assertEqual(self.send([SENDER], sender="", message=message), {})
        record = self.wait_suppressed(gone, "the DSN for %s to be recorded" % gone)
        self.assertEqual(record["reason"], "userunknown")
        self.assertTrue(record["hard"])
        # Sendmail relayed the DSN on to the sender, with the milter's header.
        relayed = wait_for(lambda: self.delivered_to_sender("Final-Recipient: rfc822; " + gone),
                           what="the DSN to reach the sender")
        self.assertEqual(relayed[0][0], "", "a DSN keeps its null envelope sender")
        self.assertIn(b"X-Bounce-Classification: kind=dsn; recipient=" + gone.encode() +
                      b"; reason=userunknown", relayed[0][2], self.diagnostics())
        # What was learnt is enforced through Sendmail.
        code, text = self.rcpt_reply(gone)
        self.assertEqual(code, 550, text)

    def test_2_outbound_suppressed_recipient_refused_other_delivered(self):
        refused_addr = "sm-refused@remote.test"
        store_probe("suppress", self.milter.store, refused_addr, "userunknown")
        refused = self.send([refused_addr, OTHER])
        self.assertEqual(list(refused), [refused_addr], self.diagnostics())
        code, text = refused[refused_addr]
        self.assertEqual(code, 550)
        self.assertRegex(text.decode(),
                         r"^5\.1\.1 <sm-refused@remote\.test>\.\.\. "
                         r"<sm-refused@remote\.test>: recipient suppressed "
                         r"\(userunknown since \d{4}-\d\d-\d\d\)$")
        delivered = wait_for(lambda: self.mx.messages_for(OTHER), what="delivery to " + OTHER)
        self.assertEqual(delivered[0][1], [OTHER])
        self.assertTrue(self.milter.log_has("outbound-refuse"))
        wait_for(lambda: (store_probe("domain", self.milter.store, "remote.test") or {}).get(
            "sent", 0) >= 1, what="recipients sent to remote.test to be counted")

    def test_3_local_recipient_checked_by_full_address(self):
        # For a local recipient Sendmail's {rcpt_addr} is only the local part
        # ("nobody"); the milter checks the RCPT argument, which is whole.
        local = "nobody@" + HOSTNAME
        store_probe("suppress", self.milter.store, local, "userunknown")
        code, text = self.rcpt_reply(local)
        self.assertEqual(code, 550, text)
        self.assertIn(b"<%s>: recipient suppressed" % local.encode(), text)

    def test_4_monitor_mode_refuses_nothing(self):
        watched = "sm-watched@remote.test"
        store_probe("suppress", self.milter.store, watched, "userunknown")
        self.assertIn(watched, self.send([watched]))
        with self.reconfigured({"Mode": "monitor"}):
            self.assertEqual(self.send([watched]), {}, self.diagnostics())
            wait_for(lambda: self.mx.messages_for(watched), what="delivery to " + watched)
            self.assertTrue(self.milter.log_has("outbound-would-refuse"))
        self.assertIn(watched, self.send([watched]))

    def test_5_dsn_discarded_when_configured(self):
        gone = "sm-discarded@remote.test"
        with self.reconfigured({"InboundAction-Dsn": "discard"}):
            message = dsn("mx.remote.test", gone, "5.1.1", "550 5.1.1 user unknown")
            self.assertEqual(self.send([SENDER], sender="", message=message), {})
            self.wait_suppressed(gone, "the discarded DSN to be recorded")
            wait_for(lambda: "milter=bounce-milter, discard" in self.sendmail.log(),
                     what="Sendmail to log the milter's discard")
        self.assertEqual(self.delivered_to_sender(gone), [])

    def test_6_sendmail_own_dsn_does_not_reach_the_milter(self):
        rejected = "sm-rejected-by-mx@remote.test"
        self.mx.replies[rejected] = "550 5.1.1 <%s>: User unknown" % rejected
        self.assertEqual(self.send([rejected]), {})
        own_dsn = wait_for(lambda: self.delivered_to_sender(rejected),
                           what="Sendmail's DSN to reach the sender")
        self.assertEqual(own_dsn[0][0], "")
        self.assertNotIn(b"X-Bounce-Classification", own_dsn[0][2])
        self.assertIsNone(store_record(self.milter.store, rejected))

    def test_7_signed_return_path_and_its_bounce_through_sendmail(self):
        # smfi_chgfrom through Sendmail: the fake MX sees the signed sender.
        verp_rcpt = "sm-verp@remote.test"
        self.assertEqual(self.send([verp_rcpt], sender=SIGNED_SENDER), {})
        got = wait_for(lambda: self.mx.messages_for(verp_rcpt), what="delivery to " + verp_rcpt)
        return_path = got[0][0]
        m = VERP.match(return_path)
        self.assertIsNotNone(m, "not a signed return path: %r%s"
                             % (return_path, self.diagnostics()))
        self.assertEqual((m.group(1), m.group(2)), ("sm-verp", "remote.test"))
        # The remote side accepted it and bounces later, over SMTP, to that
        # address: the tag verifies the bounce.
        report = dsn("mx.remote.test", verp_rcpt, "5.1.1", "550 5.1.1 user unknown")
        self.assertEqual(self.send([return_path], sender="", message=report), {})
        self.wait_suppressed(verp_rcpt, "the bounce to the signed address to be recorded")
        self.assertRegex(self.milter.log(),
                         r"inbound-trust .*trust=verified evidence=verp-tag .*recipient=%s"
                         % re.escape(verp_rcpt))

    def test_8_outbound_by_sendmail_daemon_name(self):
        # Sendmail sends {daemon_name} (DAEMON_OPTIONS Name=) at connect. With
        # loopback no longer an outbound network, only that name makes the
        # mail outbound.
        named = "sm-named@remote.test"
        store_probe("suppress", self.milter.store, named, "userunknown")
        for daemons, refused in (("MTA", True), ("MSA", False)):
            with self.reconfigured({"OutboundClients": "192.0.2.0/24",
                                    "OutboundDaemons": daemons}):
                self.assertEqual(named in self.send([named]), refused,
                                 "OutboundDaemons " + daemons + self.diagnostics())

    def test_9_milter_down_tempfails_mail(self):
        # contrib/sendmail.mc's F=T: no mail passes unfiltered while the
        # daemon is down.
        self.stop_milter()
        try:
            with self.sendmail.smtp() as smtp:
                code, text = smtp.mail(SENDER)
            self.assertEqual(code, 451, text)
        finally:
            # The stopped daemon leaves its socket file behind; without it,
            # start() waits until the new daemon has created the socket.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.milter.unix_socket())
            self.milter.start()
        try:
            self.assertEqual(self.send([OTHER]), {})
        except Exception as e:
            raise AssertionError(str(e) + self.diagnostics())

    def diagnostics(self):
        return "\n--- milter log ---\n%s\n--- sendmail log ---\n%s" % (
            self.milter.log()[-6000:], self.sendmail.log()[-6000:])


if __name__ == "__main__":
    unittest.main()
