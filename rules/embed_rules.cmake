# cmake -DINPUT=default.rules -DOUTPUT=default_rules.cc -P embed_rules.cmake
# Writes a C++ source defining bm::DefaultRulesText() as the file's text, in a
# raw string literal (the delimiter must not occur in the rules file).
file(READ "${INPUT}" text)
string(FIND "${text}" ")BMRULES\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter )BMRULES\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by embed_rules.cmake; do not edit.\n"
  "#include \"rules/default_rules.h\"\n\n"
  "namespace bm {\n\n"
  "std::string_view DefaultRulesText() {\n"
  "  static constexpr std::string_view kText = R\"BMRULES(${text})BMRULES\";\n"
  "  return kText;\n"
  "}\n\n"
  "}  // namespace bm\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
