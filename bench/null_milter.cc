// null_milter: the cheapest milter with bounce-milter's protocol shape, as the
// reference point of bench/milter_throughput. It negotiates the same steps
// (no HELO, DATA or unknown commands; no reply to connect or headers), keeps
// no state and decides nothing: CONTINUE at MAIL FROM and each RCPT TO,
// ACCEPT at end of headers. Whatever Postfix loses with it attached is the
// price of the milter protocol itself (a connection, libmilter's workers and
// the round trips), which no filter logic can avoid.
//
// With "data" it also negotiates the DATA step and accepts there, so Postfix
// never runs the header stage in cleanup(8): the floor of any milter that
// decides before the message content (bounce-milter cannot, see
// docs/performance.md, "Milter").
//
// usage: null_milter SOCKET [data]   (SOCKET as in bounce-milter: unix:/path, inet:port@host)
#include <libmilter/mfapi.h>

#include <cstdio>
#include <string_view>

namespace {

bool accept_at_data = false;

sfsistat Negotiate(SMFICTX*, unsigned long, unsigned long steps, unsigned long, unsigned long,
                   unsigned long* want_actions, unsigned long* want_steps, unsigned long* want_2,
                   unsigned long* want_3) {
  *want_actions = 0;
  *want_steps = steps & (SMFIP_NOHELO | (accept_at_data ? 0 : SMFIP_NODATA) | SMFIP_NOUNKNOWN |
                         SMFIP_NR_HDR | SMFIP_NR_CONN);
  *want_2 = 0;
  *want_3 = 0;
  return SMFIS_CONTINUE;
}

sfsistat Connect(SMFICTX*, char*, _SOCK_ADDR*) { return SMFIS_NOREPLY; }
sfsistat EnvFrom(SMFICTX*, char**) { return SMFIS_CONTINUE; }
sfsistat EnvRcpt(SMFICTX*, char**) { return SMFIS_CONTINUE; }
sfsistat Header(SMFICTX*, char*, char*) { return SMFIS_NOREPLY; }
sfsistat Data(SMFICTX*) { return SMFIS_ACCEPT; }
sfsistat EndOfHeaders(SMFICTX*) { return SMFIS_ACCEPT; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::string_view(argv[2]) != "data")) {
    std::fprintf(stderr, "usage: null_milter SOCKET [data]\n");
    return 2;
  }
  accept_at_data = argc == 3;
  smfiDesc desc{};
  desc.xxfi_name = const_cast<char*>("null_milter");
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_negotiate = &Negotiate;
  desc.xxfi_connect = &Connect;
  desc.xxfi_envfrom = &EnvFrom;
  desc.xxfi_envrcpt = &EnvRcpt;
  desc.xxfi_header = &Header;
  desc.xxfi_eoh = &EndOfHeaders;
  desc.xxfi_data = &Data;
  if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
      smfi_opensocket(true) != MI_SUCCESS) {
    std::fprintf(stderr, "null_milter: cannot listen on %s\n", argv[1]);
    return 1;
  }
  return smfi_main() == MI_SUCCESS ? 0 : 1;
}
