#include "tests/testing/marker_search.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"
#include "tests/testing/marked_cases.h"

namespace casetrail::testing {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Message types that show an event, or part of one, as recorded.
bool ShowsEvents(const Descriptor* d) {
  const std::string& name = d->full_name();
  return name == "casetrail.v1.RecordedEvent" ||
         name == "casetrail.v1.CaseEvent" ||
         name == "casetrail.v1.ChronologyEntry" ||
         name == "casetrail.v1.Amendment" ||
         name == "casetrail.v1.DecisionMarker";
}

void Walk(const Message& m, const std::string& path, bool event_text,
          std::vector<MarkerHit>* hits) {
  const Descriptor* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  event_text = event_text || ShowsEvents(d);
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    const int n = f->is_repeated() ? r->FieldSize(m, f) : 1;
    for (int i = 0; i < n; ++i) {
      std::string at =
          path.empty() ? f->name() : absl::StrCat(path, ".", f->name());
      if (f->is_repeated()) absl::StrAppend(&at, "[", i, "]");
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        Walk(f->is_repeated() ? r->GetRepeatedMessage(m, f, i)
                              : r->GetMessage(m, f),
             at, event_text, hits);
      } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
        std::string scratch;
        const std::string& value =
            f->is_repeated() ? r->GetRepeatedStringReference(m, f, i, &scratch)
                             : r->GetStringReference(m, f, &scratch);
        // Bytes fields hold stored events (an inclusion proof's event).
        const bool bytes = f->type() == FieldDescriptor::TYPE_BYTES;
        for (int marker : MarkersIn(value)) {
          hits->push_back({marker, at, event_text || bytes});
        }
      }
    }
  }
}

}  // namespace

std::set<int> MarkersIn(absl::string_view text) {
  std::set<int> found;
  const absl::string_view prefix = kMarkerPrefix;
  for (size_t at = text.find(prefix); at != absl::string_view::npos;
       at = text.find(prefix, at + 1)) {
    const absl::string_view rest = text.substr(at + prefix.size());
    if (rest.size() < 5 || rest[4] != '-') continue;
    int n = 0;
    bool digits = true;
    for (int i = 0; i < 4; ++i) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(rest[i]))) {
        digits = false;
        break;
      }
      n = n * 10 + (rest[i] - '0');
    }
    if (digits) found.insert(n);
  }
  return found;
}

std::vector<MarkerHit> FindMarkers(const Message& message) {
  std::vector<MarkerHit> hits;
  Walk(message, "", false, &hits);
  std::set<int> walked;
  for (const MarkerHit& h : hits) walked.insert(h.marker);
  for (int marker : MarkersIn(message.SerializeAsString())) {
    if (!walked.contains(marker))
      hits.push_back({marker, "<serialized>", true});
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(message, &text);
  for (int marker : MarkersIn(text)) {
    if (!walked.contains(marker))
      hits.push_back({marker, "<text format>", true});
  }
  return hits;
}

}  // namespace casetrail::testing
