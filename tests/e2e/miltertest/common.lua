-- Shared helpers of the miltertest scripts. Globals set by the driver
-- (test_miltertest.py) with -D: SOCKET (libmilter syntax).

function check(cond, what)
  if not cond then
    error("FAILED: " .. what)
  end
end

function ok(err, what)
  if err ~= nil then
    error("FAILED: " .. what .. ": " .. tostring(err))
  end
end

function open(host, ip)
  local conn = mt.connect(SOCKET, 20, 0.25)
  check(conn ~= nil, "connect to " .. SOCKET)
  ok(mt.negotiate(conn, nil, nil, nil), "negotiate")
  ok(mt.conninfo(conn, host, ip), "conninfo")
  check(mt.getreply(conn) == SMFIR_CONTINUE, "connect accepted")
  return conn
end

-- Sends an RFC 3464 DSN for `rcpt` as headers + body and ends the message.
function send_dsn(conn, rcpt, status, diag)
  ok(mt.header(conn, "From", "MAILER-DAEMON@mx.other.test"), "header")
  ok(mt.header(conn, "Subject", "Undelivered Mail Returned to Sender"), "header")
  ok(mt.header(conn, "MIME-Version", "1.0"), "header")
  ok(mt.header(conn, "Content-Type",
               "multipart/report; report-type=delivery-status; boundary=\"B\""), "header")
  ok(mt.eoh(conn), "eoh")
  ok(mt.bodystring(conn,
      "--B\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n" ..
      "--B\r\nContent-Type: message/delivery-status\r\n\r\n" ..
      "Reporting-MTA: dns; mx.other.test\r\n\r\n" ..
      "Final-Recipient: rfc822; " .. rcpt .. "\r\n" ..
      "Action: failed\r\nStatus: " .. status .. "\r\n" ..
      "Diagnostic-Code: smtp; " .. diag .. "\r\n--B--\r\n"), "body")
  ok(mt.eom(conn), "eom")
end
