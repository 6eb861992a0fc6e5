-- Flow 3: a DSN from an outside MTA (null sender <>) is recorded; with the
-- store unavailable it is answered TEMPFAIL so the MTA retries.
-- Globals: SOCKET, RCPT, EXPECT ("accept" | "tempfail").
dofile("miltertest/common.lua")
local conn = open("mx.other.test", "203.0.113.5")
ok(mt.mailfrom(conn, "<>"), "mailfrom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "null sender continues")
ok(mt.rcptto(conn, "<news@mta.test>"), "rcptto")
check(mt.getreply(conn) == SMFIR_CONTINUE, "rcpt continues")
send_dsn(conn, RCPT, "5.1.1", "550 5.1.1 user unknown")
if EXPECT == "tempfail" then
  check(mt.getreply(conn) == SMFIR_REPLYCODE, "store down: tempfail with a 451 reply")
else
  check(mt.getreply(conn) == SMFIR_ACCEPT, "DSN accepted")
end
mt.disconnect(conn)
