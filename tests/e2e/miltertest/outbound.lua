-- Flow 2: outbound mail (local client; or authenticated from anywhere) to a
-- suppressed recipient is refused with 550 while another recipient passes;
-- mail from an outside client without authentication is not checked.
-- Globals: SOCKET, SUPPRESSED, EXPECT ("refuse" | "pass", for monitor mode).
dofile("miltertest/common.lua")

local function suppressed_reply(conn, label)
  ok(mt.rcptto(conn, "<" .. SUPPRESSED .. ">"), "rcptto")
  local reply = mt.getreply(conn)
  if EXPECT == "refuse" then
    check(reply == SMFIR_REPLYCODE, label .. ": suppressed recipient refused with a reply")
  else
    check(reply == SMFIR_CONTINUE, label .. ": monitor mode refuses nothing")
  end
  ok(mt.rcptto(conn, "<fine@remote.test>"), "rcptto")
  check(mt.getreply(conn) == SMFIR_CONTINUE, label .. ": other recipient continues")
end

-- Local submission.
local conn = open("localhost", "127.0.0.1")
ok(mt.mailfrom(conn, "<news@mta.test>"), "mailfrom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "outbound sender continues")
suppressed_reply(conn, "local client")
mt.disconnect(conn)

-- Authenticated submission from an outside address.
conn = open("client.example.net", "192.0.2.10")
ok(mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice"), "macro")
ok(mt.mailfrom(conn, "<alice@mta.test>"), "mailfrom")
suppressed_reply(conn, "authenticated client")
mt.disconnect(conn)

-- Inbound mail from the Internet: accepted at MAIL FROM, nothing checked.
conn = open("mx.example.net", "198.51.100.7")
ok(mt.mailfrom(conn, "<someone@example.net>"), "mailfrom")
check(mt.getreply(conn) == SMFIR_ACCEPT, "inbound mail accepted without checks")
mt.disconnect(conn)
