#include "projections/reader_view.h"

#include "absl/strings/match.h"
#include "casetrail/v1/event.pb.h"
#include "casetrail/v1/projections.pb.h"

namespace casetrail::projections {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The event a message is of, if it is of one: a message with a string
// `event_id` (a chronology entry, an amendment, a flag, a decision record).
// Recorded events are told apart by their type (Redactor::IsWithheld).
const std::string* EventOf(const Message& message) {
  const FieldDescriptor* id =
      message.GetDescriptor()->FindFieldByName("event_id");
  if (id == nullptr || id->type() != FieldDescriptor::TYPE_STRING ||
      id->is_repeated()) {
    return nullptr;
  }
  static thread_local std::string scratch;
  return &message.GetReflection()->GetStringReference(message, id, &scratch);
}

// The event `event` amends, if it is an amendment.
const std::string* AmendedEvent(const casetrail::v1::CaseEvent& event) {
  using casetrail::v1::CaseEvent;
  switch (event.payload_case()) {
    case CaseEvent::kRecordCorrected:
      return &event.record_corrected().target_event_id();
    case CaseEvent::kRecordAnnotated:
      return &event.record_annotated().target_event_id();
    case CaseEvent::kSubjectDisputeRecorded:
      return &event.subject_dispute_recorded().target_event_id();
    case CaseEvent::kEntryRetracted:
      return &event.entry_retracted().target_event_id();
    default:
      return nullptr;
  }
}

// Recorded events and their envelopes are shown as stored (their bytes are
// what the log proves): they are kept or removed whole, never edited.
bool IsStoredEvent(const Descriptor* type) {
  return type == casetrail::v1::RecordedEvent::descriptor() ||
         type == casetrail::v1::CaseEvent::descriptor();
}

bool NamesEvents(const FieldDescriptor* field) {
  return field->type() == FieldDescriptor::TYPE_STRING &&
         (field->name() == "event_id" ||
          absl::EndsWith(field->name(), "_event_id") ||
          absl::EndsWith(field->name(), "event_ids"));
}

class Redactor {
 public:
  explicit Redactor(const ReaderView& reader)
      : reader_(reader), withheld_(reader.withheld()) {}

  bool IsWithheld(const Message& message) const {
    const Descriptor* type = message.GetDescriptor();
    if (type == casetrail::v1::RecordedEvent::descriptor()) {
      return reader_.Withholds(
          static_cast<const casetrail::v1::RecordedEvent&>(message).event());
    }
    if (type == casetrail::v1::CaseEvent::descriptor()) {
      return reader_.Withholds(
          static_cast<const casetrail::v1::CaseEvent&>(message));
    }
    const std::string* id = EventOf(message);
    if (id != nullptr && withheld_.contains(*id)) return true;
    // An amendment (casetrail.v1.Amendment) of a withheld event.
    if (type == casetrail::v1::Amendment::descriptor()) {
      return withheld_.contains(
          static_cast<const casetrail::v1::Amendment&>(message)
              .target_event_id());
    }
    return false;
  }

  void Walk(Message* message) {
    const Reflection* reflection = message->GetReflection();
    std::vector<const FieldDescriptor*> fields;
    reflection->ListFields(*message, &fields);
    for (const FieldDescriptor* field : fields) {
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        WalkMessages(message, field);
      } else if (NamesEvents(field)) {
        DropIds(message, field);
      }
    }
  }

  size_t removed() const { return removed_; }

 private:
  void WalkMessages(Message* message, const FieldDescriptor* field) {
    const Reflection* reflection = message->GetReflection();
    if (!field->is_repeated()) {
      Message* child = reflection->MutableMessage(message, field);
      if (IsWithheld(*child)) {
        reflection->ClearField(message, field);
        ++removed_;
      } else if (!IsStoredEvent(child->GetDescriptor())) {
        Walk(child);
      }
      return;
    }
    // Keep the visible elements in order, then drop the tail.
    const int size = reflection->FieldSize(*message, field);
    int kept = 0;
    for (int i = 0; i < size; ++i) {
      Message* child = reflection->MutableRepeatedMessage(message, field, i);
      if (IsWithheld(*child)) {
        ++removed_;
        continue;
      }
      if (!IsStoredEvent(child->GetDescriptor())) Walk(child);
      if (kept != i) reflection->SwapElements(message, field, kept, i);
      ++kept;
    }
    for (int i = kept; i < size; ++i) reflection->RemoveLast(message, field);
  }

  void DropIds(Message* message, const FieldDescriptor* field) {
    const Reflection* reflection = message->GetReflection();
    if (!field->is_repeated()) {
      if (withheld_.contains(reflection->GetString(*message, field))) {
        reflection->ClearField(message, field);
        ++removed_;
      }
      return;
    }
    const int size = reflection->FieldSize(*message, field);
    int kept = 0;
    for (int i = 0; i < size; ++i) {
      if (withheld_.contains(
              reflection->GetRepeatedString(*message, field, i))) {
        ++removed_;
        continue;
      }
      if (kept != i) reflection->SwapElements(message, field, kept, i);
      ++kept;
    }
    for (int i = kept; i < size; ++i) reflection->RemoveLast(message, field);
  }

  const ReaderView& reader_;
  const absl::flat_hash_set<std::string>& withheld_;
  size_t removed_ = 0;
};

}  // namespace

bool ReaderView::Withholds(const casetrail::v1::CaseEvent& event) const {
  if (withheld_.empty()) return false;
  if (withheld_.contains(event.event_id())) return true;
  const std::string* amended = AmendedEvent(event);
  return amended != nullptr && withheld_.contains(*amended);
}

size_t ReaderView::Redact(google::protobuf::Message* message) const {
  if (withheld_.empty()) return 0;
  Redactor redactor(*this);
  if (redactor.IsWithheld(*message)) {
    message->Clear();
    return 1;
  }
  if (IsStoredEvent(message->GetDescriptor())) return 0;
  redactor.Walk(message);
  return redactor.removed();
}

}  // namespace casetrail::projections
