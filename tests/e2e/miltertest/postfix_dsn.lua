-- Flow 1: a DSN as Postfix generates it (connect host localhost, empty
-- envelope sender, addresses without <>) is recorded and tagged.
-- Globals: SOCKET, RCPT (the failed recipient).
dofile("miltertest/common.lua")
local conn = open("localhost", "127.0.0.1")
ok(mt.macro(conn, SMFIC_MAIL, "i", "4XyzQ1"), "macro")
ok(mt.mailfrom(conn, ""), "mailfrom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "null sender continues")
ok(mt.rcptto(conn, "news@mta.test"), "rcptto")
check(mt.getreply(conn) == SMFIR_CONTINUE, "a DSN recipient is never refused")
send_dsn(conn, RCPT, "5.1.1", "550 5.1.1 <" .. RCPT .. ">: Recipient address rejected: User unknown")
check(mt.getreply(conn) == SMFIR_ACCEPT, "DSN accepted")
check(mt.eom_check(conn, MT_HDRADD, "X-Bounce-Classification"), "classification header added")
local value = mt.getheader(conn, "X-Bounce-Classification", 0)
check(value ~= nil and string.find(value, "reason=userunknown", 1, true) ~= nil,
      "header says userunknown: " .. tostring(value))
mt.disconnect(conn)
