"""End-to-end fault tests: the milter killed mid-connection, the store
unavailable, malformed and oversized bounces over SMTP."""

import os
import smtplib
import unittest

from harness import (MailFlowSuite, FakeMx, Milter, Postfix, dsn, make_workdir, plain_message, store_probe,
                     store_record, wait_for)

SENDER = "news@mta.test"


class Fixture(MailFlowSuite):
    milter_settings = {}
    postfix_default_action = "accept"

    @classmethod
    def setUpClass(cls):
        cls.work = make_workdir("bm-e2e-faults-")
        cls.mx = FakeMx()
        cls.milter = Milter(cls.work, dict(cls.milter_settings))
        cls.milter.start()
        cls.postfix = Postfix(cls.work, cls.mx.port, cls.milter.port,
                              default_action=cls.postfix_default_action)
        cls.postfix.start()



class MilterKilled(Fixture):
    def test_killed_mid_connection_postfix_applies_default_action(self):
        kept = "kept@remote.test"
        store_probe("suppress", self.milter.store, kept, "userunknown")
        smtp = self.postfix.smtp()
        smtp.ehlo()
        smtp.mail(SENDER)
        self.assertEqual(smtp.rcpt("first@remote.test")[0], 250)
        self.milter.kill()
        # milter_default_action = accept: the rest of the session goes on.
        self.assertEqual(smtp.rcpt("second@remote.test")[0], 250)
        code, _ = smtp.data(plain_message(SENDER, ["first@remote.test", "second@remote.test"]))
        self.assertEqual(code, 250, self.diagnostics())
        smtp.quit()
        wait_for(lambda: self.mx.messages_for("second@remote.test"), what="delivery")
        self.assertIn("milter", self.postfix.log())
        # Nothing corrupted: the store opens, verifies, and still has the record.
        report = store_probe("verify", self.milter.store)
        self.assertEqual(report["problems"], [])
        self.assertEqual(store_record(self.milter.store, kept)["state"], "suppressed")
        self.milter.start()
        with self.postfix.smtp() as smtp2:
            refused = smtp2.sendmail(SENDER, [kept, "x@remote.test"],
                                     plain_message(SENDER, [kept]))
        self.assertIn(kept, refused)


class StoreUnavailable(Fixture):
    @classmethod
    def setUpClass(cls):
        work = make_workdir("bm-e2e-nostore-")
        # A store path under a regular file can never be opened.
        blocker = os.path.join(work, "not-a-directory")
        open(blocker, "w").close()
        cls.milter_settings = {"StorePath": os.path.join(blocker, "store"),
                               "On-StoreError": "reject"}
        super().setUpClass()

    def test_inbound_bounce_is_tempfailed(self):
        message = dsn("mx.other.test", "lost@other.test", "5.1.1", "550 5.1.1 user unknown")
        with self.postfix.smtp() as smtp:
            with self.assertRaises(smtplib.SMTPDataError) as caught:
                smtp.sendmail("", [SENDER], message)
        self.assertEqual(caught.exception.smtp_code, 451, self.diagnostics())
        self.assertTrue(self.milter.log_has("inbound-store-error"))

    def test_outbound_gets_the_configured_action(self):
        with self.postfix.smtp() as smtp:
            smtp.mail(SENDER)
            code, text = smtp.rcpt("someone@remote.test")
        self.assertEqual(code, 550, self.diagnostics())
        self.assertIn(b"5.3.0", text)
        self.milter.settings["On-StoreError"] = "tempfail"
        self.milter.write_conf()
        self.milter.reload()
        with self.postfix.smtp() as smtp:
            smtp.mail(SENDER)
            code, text = smtp.rcpt("someone@remote.test")
        self.assertEqual(code, 451, self.diagnostics())
        self.milter.settings["On-StoreError"] = "accept"
        self.milter.write_conf()
        self.milter.reload()
        with self.postfix.smtp() as smtp:
            self.assertEqual(smtp.sendmail(SENDER, ["someone@remote.test"],
                                           plain_message(SENDER, ["someone@remote.test"])), {})


class BadBounces(Fixture):
    milter_settings = {"MaxMessageSize": "64K"}

    def send_bounce(self, message):
        with self.postfix.smtp() as smtp:
            return smtp.sendmail("", [SENDER], message)

    def test_malformed_bounces_are_delivered_untouched(self):
        garbage = [
            b"\x00\xff\xfe binary garbage \x01\x02\r\n" * 50,
            ("Content-Type: multipart/report; boundary=\"never-closed\"\r\n\r\n"
             "--never-closed\r\nContent-Type: message/delivery-status\r\n\r\n"
             "Final-Recipient: rfc822;\r\nStatus: 9.9.9.9\r\n").encode(),
            ("Content-Type: multipart/mixed; boundary=x\r\n\r\n" +
             "--x\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n" * 300).encode(),
            b"Subject: \xc3\x28 invalid utf-8 \xe2\x82\r\nContent-Type: text/plain; "
            b"charset=x-unknown-charset\r\n\r\n\xfe\xfe\xfe\r\n",
        ]
        for i, body in enumerate(garbage):
            self.assertEqual(self.send_bounce(b"X-Case: %d\r\n" % i + body), {})
        wait_for(lambda: len(self.mx.messages_for(SENDER)) >= len(garbage),
                 what="the malformed bounces to be delivered")
        self.assertIsNone(self.milter.proc.poll(), "the milter must survive")

    def test_oversized_bounce_is_accepted_and_not_recorded(self):
        big = "big@other.test"
        message = dsn("mx.other.test", big, "5.1.1", "550 5.1.1 user unknown")
        message = message.replace("Your message could not be delivered.\r\n",
                                  ("x" * 998 + "\r\n") * 300)
        self.assertEqual(self.send_bounce(message), {})
        wait_for(lambda: self.milter.log_has("inbound-too-large"), what="the too-large log line")
        wait_for(lambda: any(big.encode() in m[2] for m in self.mx.messages_for(SENDER)),
                 what="the oversized bounce to be delivered")
        self.assertIsNone(store_record(self.milter.store, big))
        self.assertIsNone(self.milter.proc.poll())


if __name__ == "__main__":
    unittest.main()
