-- Aborted and abruptly closed transactions leave the milter serving: the
-- message state is cleared on abort and the connection context freed on close.
-- Globals: SOCKET.
dofile("miltertest/common.lua")
for i = 1, 20 do
  local conn = open("localhost", "127.0.0.1")
  ok(mt.mailfrom(conn, "<>"), "mailfrom")
  ok(mt.rcptto(conn, "<news@mta.test>"), "rcptto")
  ok(mt.header(conn, "Subject", "partial " .. i), "header")
  ok(mt.abort(conn), "abort")
  if i % 2 == 0 then
    mt.disconnect(conn, false)
  else
    mt.disconnect(conn)
  end
end
local conn = open("localhost", "127.0.0.1")
ok(mt.mailfrom(conn, "<news@mta.test>"), "mailfrom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "still serving")
mt.disconnect(conn)
