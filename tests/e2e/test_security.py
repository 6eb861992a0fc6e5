"""End-to-end: trusting only real bounces (issue 5), inside a real Postfix.

Outbound mail from news@mta.test gets a signed envelope sender; Postfix's own
DSN for it comes back to that address and is verified; forged DSNs (no tag,
a wrong tag) change nothing; a bounce matched only by the Message-ID of mail
we sent, or (SentLedger queue-id) only by the queue id in our Received
header, is verified through the sent-message ledger; a flood of 10,000
forged DSNs from one client is rate-limited while the real bounces sent in
between are all recorded. Tests run in name order and share one set-up.
"""

import os
import re
import smtplib
import socket
import time
import unittest

from harness import (MailFlowSuite, FakeMx, Milter, Postfix, dsn, make_workdir, plain_message, store_record,
                     wait_for)

SENDER = "news@mta.test"          # signed (SignSenders *@mta.test)
UNSIGNED_SENDER = "crm@crm.test"  # not signed, but its mail goes to the ledger
VERP = re.compile(r"^bounces\+[a-z2-7]{13}\+(.+)=(.+)@mta\.test$")
FLOOD = 10000
LEGIT_EVERY = 1000


def write_keys(path):
    """A key file as `bouncectl keys generate` writes it (mode 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("current a 2026-01-01T00:00:00Z %s\n" % os.urandom(32).hex())


class PipelinedClient:
    """Raw SMTP over one connection: one round trip per transaction
    (RSET MAIL RCPT DATA pipelined, RFC 2920), the body only after a 354."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.reply()  # greeting
        self.send(b"EHLO flood.test\r\n")
        self.reply()

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """Reads one (possibly multi-line) reply; returns its code."""
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise AssertionError("connection closed by the server")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            if line[3:4] != b"-":
                return int(line[:3])

    def bounce(self, recipient, message):
        """Sends one null-sender message; returns (rcpt code, final code)."""
        self.send(b"RSET\r\nMAIL FROM:<>\r\nRCPT TO:<%s>\r\nDATA\r\n" % recipient.encode())
        self.reply()
        self.reply()
        rcpt = self.reply()
        data = self.reply()
        if data != 354:
            return rcpt, data
        self.send(message.replace("\r\n.", "\r\n..").encode() + b"\r\n.\r\n")
        return rcpt, self.reply()

    def close(self):
        self.send(b"QUIT\r\n")
        self.sock.close()


class Security(MailFlowSuite):
    @classmethod
    def setUpClass(cls):
        cls.work = make_workdir("bm-e2e-security-")
        cls.keys = os.path.join(cls.work, "return-path.keys")
        write_keys(cls.keys)
        cls.mx = FakeMx()
        cls.milter = Milter(cls.work, {
            "ReturnPathKeys": cls.keys,
            "SignSenders": "*@mta.test",
            "BounceAddresses": "bounces+*@mta.test",
            "UnverifiedBounces": "log-only",
            "LogLevel": "info",
        })
        cls.milter.start()
        # The flood makes two errors per transaction; keep Postfix from hanging up.
        cls.postfix = Postfix(cls.work, cls.mx.port, cls.milter.port, extra={
            "smtpd_soft_error_limit": "100000",
            "smtpd_hard_error_limit": "100000",
            "smtpd_junk_command_limit": "100000",
        })
        cls.postfix.start()


    def send(self, sender, recipients, message=None):
        with self.postfix.smtp() as smtp:
            return smtp.sendmail(sender, recipients,
                                 message or plain_message(sender or "x@x.test", recipients))

    def wait_suppressed(self, address):
        try:
            return wait_for(lambda: (lambda r: r if r and r["state"] == "suppressed" else None)(
                store_record(self.milter.store, address)), what=address + " suppressed")
        except AssertionError as e:
            raise AssertionError(str(e) + self.diagnostics())

    def verp_address_for(self, recipient):
        """The signed envelope sender the fake MX saw for mail to recipient."""
        got = wait_for(lambda: self.mx.messages_for(recipient), what="delivery to " + recipient)
        return got[0][0]

    def test_1_outbound_mail_gets_a_signed_envelope_sender(self):
        self.assertEqual(self.send(SENDER, ["one@remote.test"]), {})
        sender = self.verp_address_for("one@remote.test")
        m = VERP.match(sender)
        self.assertIsNotNone(m, "not a VERP return path: %r%s" % (sender, self.diagnostics()))
        self.assertEqual((m.group(1), m.group(2)), ("one", "remote.test"))
        self.assertIn("outbound-signed", self.milter.log())

        self.assertEqual(self.send(SENDER, ["two@remote.test", "three@remote.test"]), {})
        batv = self.verp_address_for("two@remote.test")
        self.assertRegex(batv, r"^prvs=[a-z2-7]{13}=news@mta\.test$")
        # Mail from senders that are not configured keeps its envelope sender.
        self.assertEqual(self.send(UNSIGNED_SENDER, ["four@remote.test"]), {})
        self.assertEqual(self.verp_address_for("four@remote.test"), UNSIGNED_SENDER)

    def test_2_dsn_to_the_signed_sender_is_verified_and_suppresses(self):
        gone = "gone@remote.test"
        self.mx.replies[gone] = "550 5.1.1 <%s>: Recipient address rejected: User unknown" % gone
        self.assertEqual(self.send(SENDER, [gone]), {})
        record = self.wait_suppressed(gone)
        self.assertEqual(record["reason"], "userunknown")
        self.assertRegex(self.milter.log(), r"inbound-trust .*trust=verified evidence=verp-tag")
        # Postfix sent its DSN to the signed address.
        dsns = wait_for(lambda: [m for m in self.mx.received if m[0] == "" and
                                 any(VERP.match(r) for r in m[1])], what="the DSN")
        self.assertTrue(dsns)

    def test_3_forged_dsns_with_no_or_a_wrong_tag_change_nothing(self):
        victim = "ceo@customer.test"
        report = dsn("mx.customer.test", victim, "5.1.1", "550 5.1.1 <%s>: user unknown" % victim,
                     original_id="made-up@mta.test")
        good = self.verp_address_for("one@remote.test")  # a real tag, for another recipient
        tag_for_other = good.replace("+one=remote.test@", "+ceo=customer.test@")
        wrong_tag = re.sub(r"^bounces\+[a-z2-7]{13}", "bounces+aaaaaaaaaaaaa", good)
        for rcpt in (SENDER, "bounces@mta.test", tag_for_other, wrong_tag):
            self.assertEqual(self.send("", [rcpt], report), {})
        wait_for(lambda: self.milter.log().count("inbound-forged") >= 2, what="forged logged")
        self.assertIsNone(store_record(self.milter.store, victim), self.diagnostics())
        self.assertIn("inbound-unverified", self.milter.log())

    def test_3b_forged_dsn_rejected_at_end_of_data_when_configured(self):
        self.milter.settings["ForgedBounces"] = "reject"
        self.milter.write_conf()
        self.milter.reload()
        victim = "cfo@customer.test"
        forged = "bounces+aaaaaaaaaaaaa+cfo=customer.test@mta.test"
        try:
            with self.assertRaises(smtplib.SMTPDataError) as refused:
                self.send("", [forged], dsn("mx.customer.test", victim, "5.1.1", "550 unknown"))
            self.assertEqual(refused.exception.smtp_code, 550)
        finally:
            del self.milter.settings["ForgedBounces"]
            self.milter.write_conf()
            self.milter.reload()
        self.assertIsNone(store_record(self.milter.store, victim))

    def test_4_bounce_matched_only_by_message_id_is_verified(self):
        rcpt = "ledger@remote.test"
        message_id = "crm-%s@crm.test" % os.urandom(6).hex()
        message = ("From: %s\r\nTo: %s\r\nSubject: offer\r\nMessage-ID: <%s>\r\n\r\nhi\r\n"
                   % (UNSIGNED_SENDER, rcpt, message_id))
        self.assertEqual(self.send(UNSIGNED_SENDER, [rcpt], message), {})
        wait_for(lambda: self.mx.messages_for(rcpt), what="delivery to " + rcpt)
        # Later, the remote side bounces it to the plain sender address.
        report = dsn("mx.remote.test", rcpt, "5.1.1", "550 5.1.1 user unknown",
                     original_id=message_id)
        self.assertEqual(self.send("", [UNSIGNED_SENDER], report), {})
        self.wait_suppressed(rcpt)
        self.assertRegex(self.milter.log(), r"trust=verified evidence=ledger ledger=message-id ")
        # The same report naming a recipient the message did not have: not recorded.
        other = "not-a-recipient@remote.test"
        report = dsn("mx.remote.test", other, "5.1.1", "550 5.1.1 user unknown",
                     original_id=message_id)
        self.assertEqual(self.send("", [UNSIGNED_SENDER], report), {})
        wait_for(lambda: ("recipient=" + other) in self.milter.log(), what="the bounce logged")
        self.assertIsNone(store_record(self.milter.store, other))

    def test_4b_bounce_matched_only_by_our_queue_id_is_verified(self):
        """SentLedger queue-id: the message is accepted at DATA, its ledger
        entry keyed by Postfix's queue id; a bounce that returns only our
        Received header (no Message-ID) finds it."""
        self.milter.settings["SentLedger"] = "queue-id"
        self.milter.write_conf()
        self.milter.reload()
        try:
            rcpt = "queue-ledger@remote.test"
            self.assertEqual(self.send(UNSIGNED_SENDER, [rcpt]), {})
            delivered = wait_for(lambda: self.mx.messages_for(rcpt), what="delivery to " + rcpt)
            raw = delivered[0][2].decode("utf-8", "replace").replace("\r\n", "\n")
            header = raw.split("\n\n", 1)[0]
            # Postfix's own Received fields, folding kept, with the real queue id.
            received = re.findall(r"^Received:.*(?:\n[ \t].*)*", header, re.M)
            self.assertTrue(any("(Postfix)" in r and " id " in r for r in received), header)
            returned = "".join(r.replace("\n", "\r\n") + "\r\n" for r in received)
            before = self.milter.log().count("evidence=ledger ledger=queue-id ")
            report = dsn("mx.remote.test", rcpt, "5.1.1", "550 5.1.1 user unknown",
                         original_id="gone")
            self.assertEqual(self.send("", [UNSIGNED_SENDER],
                                       report.replace("Message-ID: <gone>\r\n", returned)), {})
            self.wait_suppressed(rcpt)
            self.assertGreater(self.milter.log().count("evidence=ledger ledger=queue-id "), before,
                               self.diagnostics())
            # Accepting at DATA accepts that message only: the next message of the
            # same SMTP session is checked again, and the suppressed address refused.
            with self.postfix.smtp() as smtp:
                smtp.sendmail(UNSIGNED_SENDER, ["still-fine@remote.test"],
                              plain_message(UNSIGNED_SENDER, ["still-fine@remote.test"]))
                with self.assertRaises(smtplib.SMTPRecipientsRefused):
                    smtp.sendmail(UNSIGNED_SENDER, [rcpt], plain_message(UNSIGNED_SENDER, [rcpt]))
            # The same returned headers naming a recipient the message did not have.
            other = "not-queued-for@remote.test"
            report = dsn("mx.remote.test", other, "5.1.1", "550 5.1.1 user unknown",
                         original_id="gone")
            self.assertEqual(self.send("", [UNSIGNED_SENDER],
                                       report.replace("Message-ID: <gone>\r\n", returned)), {})
            wait_for(lambda: ("recipient=" + other) in self.milter.log(), what="the bounce logged")
            self.assertIsNone(store_record(self.milter.store, other))
        finally:
            del self.milter.settings["SentLedger"]
            self.milter.write_conf()
            self.milter.reload()

    def test_5_forged_flood_is_rate_limited_and_real_bounces_get_through(self):
        legit = []
        client = PipelinedClient(self.postfix.port)
        codes = {}
        started = time.monotonic()
        try:
            for i in range(FLOOD):
                if i % LEGIT_EVERY == LEGIT_EVERY // 2:
                    address = "flood-gone-%d@remote.test" % len(legit)
                    self.mx.replies[address] = "550 5.1.1 <%s>: User unknown" % address
                    self.assertEqual(self.send(SENDER, [address]), {})
                    legit.append(address)
                victim = "victim-%d@customer.test" % i
                report = dsn("mx.flood.test", victim, "5.1.1", "550 5.1.1 user unknown",
                             original_id="forged-%d@mta.test" % i)
                rcpt, final = client.bounce(SENDER, report)
                codes[(rcpt, final)] = codes.get((rcpt, final), 0) + 1
        finally:
            client.close()
        elapsed = time.monotonic() - started
        limited = codes.get((451, 554), 0)
        print("\nflood: %d forged DSNs in %.1fs (%.0f/s); replies %s"
              % (FLOOD, elapsed, FLOOD / elapsed, codes))
        # ClientBounceBurst 60, then ClientBounceRate 60 a minute: all but about
        # 60 + elapsed seconds are refused at RCPT, before any parsing.
        admitted = codes.get((250, 250), 0)
        self.assertGreater(admitted, 0, codes)
        self.assertLessEqual(admitted, 60 + elapsed + 10, codes)
        self.assertEqual(limited + admitted, FLOOD, codes)
        # Every real bounce sent during the flood is recorded.
        for address in legit:
            self.assertEqual(self.wait_suppressed(address)["reason"], "userunknown")
        # No forged one is.
        for i in (0, 1, FLOOD // 2, FLOOD - 1):
            self.assertIsNone(store_record(self.milter.store, "victim-%d@customer.test" % i))
        self.assertIn("inbound-rate-limited", self.milter.log())


if __name__ == "__main__":
    unittest.main()
