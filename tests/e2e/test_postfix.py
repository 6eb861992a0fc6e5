"""End-to-end: bounce-milter inside a real Postfix (issue 4, scenarios 1-4).

One Postfix instance relays everything to a fake remote MX; the milter is
attached as smtpd_milters and non_smtpd_milters (internal_mail_filter_classes
= bounce), so Postfix's own DSNs pass through it. Tests run in name order and
build on each other: the address suppressed by test_1 is refused by test_2.
"""

import os
import pwd
import shutil
import smtplib
import stat
import subprocess
import unittest

from harness import (MailFlowSuite, FakeMx, Milter, Postfix, dsn, make_workdir, plain_message, store_probe,
                     store_record, wait_for)

SENDER = "news@mta.test"
GONE = "gone@remote.test"
OTHER = "still-here@remote.test"
FULL = "full@remote.test"

PROBE_RULE = "rule e2e-probe diag ~ /e2e probe phrase/i => mailboxfull transient\n"


def rules_with_probe():
    with open(os.path.join(os.environ["BM_SOURCE_DIR"], "rules", "default.rules")) as f:
        return PROBE_RULE + f.read()


class PostfixFlows(MailFlowSuite):
    @classmethod
    def setUpClass(cls):
        cls.work = make_workdir("bm-e2e-postfix-")
        cls.rules = os.path.join(cls.work, "rules.conf")
        with open(cls.rules, "w") as f:
            f.write(rules_with_probe())
        cls.mx = FakeMx()
        cls.mx.replies[GONE] = "550 5.1.1 <%s>: Recipient address rejected: User unknown" % GONE
        cls.mx.replies[FULL] = "452 4.2.2 <%s>: Mailbox full, try again later" % FULL
        cls.milter = Milter(cls.work, {"RulesFile": cls.rules})
        cls.milter.start()
        cls.postfix = Postfix(cls.work, cls.mx.port, cls.milter.port)
        cls.postfix.start()


    def send(self, recipients, sender=SENDER, message=None):
        """Returns the refused recipients {address: (code, text)}."""
        with self.postfix.smtp() as smtp:
            try:
                return smtp.sendmail(sender, recipients,
                                     message or plain_message(sender or "mailer-daemon@x",
                                                              recipients))
            except smtplib.SMTPRecipientsRefused as e:  # all of them
                return e.recipients

    def wait_record(self, address, predicate, what):
        try:
            return wait_for(lambda: (lambda r: r if r and predicate(r) else None)(
                store_record(self.milter.store, address)), what=what)
        except AssertionError as e:
            raise AssertionError(str(e) + self.diagnostics())

    def test_1_postfix_generated_dsn_suppresses_address(self):
        self.assertEqual(self.send([GONE]), {})
        record = self.wait_record(GONE, lambda r: r["state"] == "suppressed",
                                  "Postfix's DSN for %s to be recorded" % GONE)
        self.assertEqual(record["reason"], "userunknown")
        self.assertTrue(record["hard"])
        self.assertTrue(record["suppressed_now"])
        # The DSN went on to the sender, tagged.
        dsns = wait_for(lambda: self.mx.messages_for(SENDER), what="the DSN to reach the sender")
        self.assertIn(b"X-Bounce-Classification: kind=dsn; recipient=" + GONE.encode(), dsns[0][2])
        self.assertEqual(dsns[0][0], "", "a DSN has a null envelope sender")

    def test_2_next_mail_refused_at_rcpt_other_recipient_delivered(self):
        refused = self.send([GONE, OTHER])
        self.assertIn(GONE, refused, self.diagnostics())
        code, text = refused[GONE]
        self.assertEqual(code, 550)
        self.assertRegex(text.decode(),
                         r"^5\.1\.1 <gone@remote\.test>: recipient suppressed "
                         r"\(userunknown since \d{4}-\d\d-\d\d\)$")
        self.assertNotIn(OTHER, refused)
        delivered = wait_for(lambda: self.mx.messages_for(OTHER), what="delivery to " + OTHER)
        self.assertNotIn(GONE, delivered[0][1])
        self.assertTrue(self.milter.log_has("outbound-refuse"))
        # Accepted recipients are counted per receiving domain.
        wait_for(lambda: (store_probe("domain", self.milter.store, "remote.test") or {}).get(
            "sent", 0) >= 2, what="recipients sent to remote.test to be counted")

    def test_3_external_dsn_over_smtp_is_ingested(self):
        ext = "ext-gone@other.test"
        message = dsn("mx.other.test", ext, "5.1.1", "550 5.1.1 <%s>: user unknown" % ext)
        self.assertEqual(self.send([SENDER], sender="", message=message), {})
        record = self.wait_record(ext, lambda r: r["state"] == "suppressed",
                                  "the external DSN to be recorded")
        self.assertEqual(record["reason"], "userunknown")
        with self.postfix.smtp() as smtp:
            smtp.mail(SENDER)
            code, _ = smtp.rcpt(ext)
            self.assertEqual(code, 550)

    def test_4a_expired_4xx_recipient_counts_as_soft_bounce(self):
        self.assertEqual(self.send([FULL]), {})
        record = self.wait_record(FULL, lambda r: r["soft_count"] >= 1,
                                  "the expiry DSN for %s to be counted" % FULL)
        self.assertEqual(record["class"], "transient")
        self.assertFalse(record["hard"])
        self.assertEqual(record["hard_count"], 0)
        self.assertFalse(record["suppressed_now"])

    def test_4b_monitor_mode_refuses_nothing(self):
        watched = "watched@remote.test"  # suppressed here, accepted by the remote MX
        store_probe("suppress", self.milter.store, watched, "userunknown")
        self.assertIn(watched, self.send([watched]))
        self.milter.settings["Mode"] = "monitor"
        self.milter.write_conf()
        self.milter.reload()
        try:
            self.assertEqual(self.send([watched]), {}, self.diagnostics())
            wait_for(lambda: self.mx.messages_for(watched), what="delivery to " + watched)
            self.assertTrue(self.milter.log_has("outbound-would-refuse"))
        finally:
            self.milter.settings["Mode"] = "enforce"
            self.milter.write_conf()
            self.milter.reload()
        self.assertIn(watched, self.send([watched]))

    def test_5_sendmail_submission_has_suppressed_recipients_removed(self):
        # Mail from sendmail(1) passes non_smtpd_milters, where Postfix cannot
        # take a refused recipient: the milter removes it at end of message.
        kept = "sendmail-ok@remote.test"
        message = plain_message(SENDER, [GONE, kept], subject="via sendmail")
        subprocess.run(["sendmail", "-C", self.postfix.etc, "-f", SENDER, GONE, kept],
                       input=message.encode(), check=True)
        delivered = wait_for(lambda: self.mx.messages_for(kept), what="delivery to " + kept)
        self.assertNotIn(GONE, delivered[0][1])
        wait_for(lambda: self.milter.log_has("outbound-remove"), what="the removal log line")
        # Only suppressed recipients: the message is returned to the sender.
        subprocess.run(["sendmail", "-C", self.postfix.etc, "-f", SENDER, GONE],
                       input=plain_message(SENDER, [GONE], subject="only gone").encode(),
                       check=True)
        wait_for(lambda: any(b"recipient suppressed" in m[2] and b"only gone" in m[2]
                             for m in self.mx.messages_for(SENDER)),
                 what="the refused submission to be returned to the sender")
        self.assertNotIn("can't reject recipient", self.postfix.log())
        self.assertTrue(wait_for(self.postfix.queue_empty, what="an empty queue"))

    def test_4c_sighup_with_broken_rules_keeps_old_rules(self):
        with open(self.rules, "w") as f:
            f.write("rule broken status 5.* => \n")
        self.milter.reload()
        self.assertTrue(self.milter.log_has("reload failed"), self.diagnostics())
        self.assertIsNone(self.milter.proc.poll(), "SIGHUP must not stop the milter")
        probe = "probe@other.test"
        message = dsn("mx.other.test", probe, "4.2.2", "452 4.2.2 e2e probe phrase")
        self.assertEqual(self.send([SENDER], sender="", message=message), {})
        record = self.wait_record(probe, lambda r: r["last_rule_id"] != "",
                                  "the probe DSN to be recorded")
        self.assertEqual(record["last_rule_id"], "e2e-probe", "the old rules must keep serving")
        with open(self.rules, "w") as f:
            f.write(rules_with_probe())


class UnixSocketAndPrivileges(unittest.TestCase):
    """The deployment shape: a unix socket handed to user postfix, the daemon
    running as nobody after opening it, the store owned by nobody."""

    def test_unix_socket_owned_by_postfix_and_privileges_dropped(self):
        work = make_workdir("bm-e2e-unix-")
        store = os.path.join(work, "store")
        os.makedirs(store)
        shutil.chown(store, "nobody", "nogroup")
        sock_dir = os.path.join(work, "sock")
        os.makedirs(sock_dir)
        sock = os.path.join(sock_dir, "milter.sock")
        mx = FakeMx()
        milter = Milter(work, {"Socket": "unix:" + sock, "UserID": "nobody",
                               "SocketOwner": "postfix", "SocketMode": "0600"})
        milter.start()
        postfix = Postfix(work, mx.port, "unix:" + sock)
        try:
            postfix.start()
            st = os.stat(sock)
            self.assertEqual(st.st_uid, pwd.getpwnam("postfix").pw_uid)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
            with open("/proc/%d/status" % milter.proc.pid) as f:
                uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
            self.assertEqual(set(uids), {str(pwd.getpwnam("nobody").pw_uid)})
            gone = "unix-gone@other.test"
            with postfix.smtp() as smtp:
                smtp.sendmail("", [SENDER], dsn("mx.other.test", gone, "5.1.1",
                                                "550 5.1.1 user unknown"))
            wait_for(lambda: (store_record(store, gone) or {}).get("state") == "suppressed",
                     what="the DSN to be recorded by the unprivileged daemon")
            with postfix.smtp() as smtp:
                smtp.mail(SENDER)
                self.assertEqual(smtp.rcpt(gone)[0], 550, milter.log())
        finally:
            postfix.stop()
            status = milter.stop()
            mx.stop()
        self.assertEqual(status, 0, milter.log())


if __name__ == "__main__":
    unittest.main()
