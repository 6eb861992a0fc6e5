#include "parser/auto_reply.h"

#include <string_view>

#include "parser/text_util.h"

namespace bm {
namespace {

bool SubjectSaysAutoReply(std::string_view subject) {
  static constexpr std::string_view kPrefixes[] = {
      "auto:", "automatic reply", "auto reply", "auto-reply", "autoreply", "auto response",
      "autoresponse", "out of office", "out of the office", "vacation", "away from",
      "réponse automatique", "abwesenheit", "automatische antwort", "respuesta automática",
  };
  subject = Trim(subject);
  for (std::string_view p : kPrefixes) {
    if (StartsWithIgnoreCase(subject, p)) return true;
  }
  return ContainsIgnoreCase(subject, "out of office") || ContainsIgnoreCase(subject, "on vacation");
}

}  // namespace

bool IsAutoReply(const FieldGroup& headers) {
  for (const HeaderField& f : headers) {
    const std::string_view name = f.name;
    const std::string_view value = Trim(f.value);
    if (EqualsIgnoreCase(name, "Auto-Submitted") && StartsWithIgnoreCase(value, "auto-replied")) {
      return true;
    }
    if (EqualsIgnoreCase(name, "X-Autoreply") || EqualsIgnoreCase(name, "X-Autorespond") ||
        EqualsIgnoreCase(name, "X-Autoresponder") || EqualsIgnoreCase(name, "X-Mail-Autoreply") ||
        EqualsIgnoreCase(name, "X-Vacation")) {
      return true;
    }
    if (EqualsIgnoreCase(name, "Precedence") && EqualsIgnoreCase(value, "auto_reply")) return true;
    if (EqualsIgnoreCase(name, "Subject") && SubjectSaysAutoReply(value)) return true;
  }
  return false;
}

}  // namespace bm
