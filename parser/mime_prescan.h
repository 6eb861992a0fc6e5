// A cheap, non-recursive scan of a raw message that bounds the MIME nesting
// depth and the number of parts before GMime (whose parser recurses once per
// nesting level) builds the tree. Pathological input such as 10,000 nested
// multiparts is rejected here in linear time and constant stack.
//
// The estimate is conservative: it may overstate the depth of a message (a
// message/rfc822 header counts as one level wherever it sits) but never
// understates it.
//
// Internal to parser/. Thread-safe (pure).
#ifndef BM_PARSER_MIME_PRESCAN_H_
#define BM_PARSER_MIME_PRESCAN_H_

#include <cstddef>
#include <string_view>

namespace bm {

struct MimeShape {
  int max_depth = 0;      // deepest nesting of multiparts plus embedded messages
  std::size_t parts = 0;  // boundary delimiter lines seen
};

// Scans raw; stops early (with values above the limits) once depth exceeds
// depth_limit or parts exceeds part_limit.
MimeShape PrescanMime(std::string_view raw, int depth_limit, std::size_t part_limit);

}  // namespace bm

#endif  // BM_PARSER_MIME_PRESCAN_H_
