"""The same flows driven by miltertest (OpenDKIM's milter test client, a
second implementation of the MTA side of the milter protocol), with the
Lua scripts in tests/e2e/miltertest/."""

import os
import subprocess
import unittest

from harness import Milter, make_workdir, store_probe, store_record

HERE = os.path.dirname(os.path.abspath(__file__))


class MiltertestFlows(unittest.TestCase):
    def setUp(self):
        self.work = make_workdir("bm-e2e-miltertest-")
        self.milters = []

    def tearDown(self):
        for m in self.milters:
            status = m.stop()
            self.assertEqual(status, 0, "milter exit status\n" + m.log())

    def start_milter(self, settings=None):
        m = Milter(self.work, settings, name="milter%d" % len(self.milters))
        m.start()
        self.milters.append(m)
        return m

    def run_script(self, milter, script, **defines):
        args = ["miltertest", "-s", os.path.join("miltertest", script),
                "-D", "SOCKET=inet:%d@127.0.0.1" % milter.port]
        for k, v in defines.items():
            args += ["-D", "%s=%s" % (k, v)]
        out = subprocess.run(args, cwd=HERE, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, "%s failed:\n%s%s\n--- milter log ---\n%s" % (
            script, out.stdout, out.stderr, milter.log()[-4000:]))

    def test_flows_enforce(self):
        m = self.start_milter()
        self.run_script(m, "postfix_dsn.lua", RCPT="mt-gone@remote.test")
        record = store_record(m.store, "mt-gone@remote.test")
        self.assertEqual(record["state"], "suppressed")
        self.assertEqual(record["reason"], "userunknown")
        self.run_script(m, "outbound.lua", SUPPRESSED="mt-gone@remote.test", EXPECT="refuse")
        self.run_script(m, "external_dsn.lua", RCPT="mt-ext@other.test", EXPECT="accept")
        self.assertEqual(store_record(m.store, "mt-ext@other.test")["state"], "suppressed")
        self.run_script(m, "abort.lua")

    def test_monitor_mode(self):
        m = self.start_milter({"Mode": "monitor"})
        store_probe("suppress", m.store, "mt-mon@remote.test", "userunknown")
        self.run_script(m, "outbound.lua", SUPPRESSED="mt-mon@remote.test", EXPECT="pass")
        self.assertTrue(m.log_has("outbound-would-refuse"))

    def test_store_unavailable(self):
        blocker = os.path.join(self.work, "file")
        open(blocker, "w").close()
        m = self.start_milter({"StorePath": os.path.join(blocker, "store")})
        self.run_script(m, "external_dsn.lua", RCPT="mt-lost@other.test", EXPECT="tempfail")


if __name__ == "__main__":
    unittest.main()
