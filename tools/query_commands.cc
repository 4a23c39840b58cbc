#include "tools/query_commands.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "casetrail/v1/access.grpc.pb.h"
#include "casetrail/v1/case_queries.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "projections/headlines.h"
#include "projections/payload_fields.h"
#include "tools/cli_common.h"
#include "tools/terminal_text.h"

ABSL_FLAG(std::string, as_known_at, "",
          "chronology/state/pack: answer as the record stood at this time "
          "(RFC 3339, e.g. 2026-03-10T17:00:00Z, or a date YYYY-MM-DD for the "
          "end of that day in UTC). Default: as known now.");
ABSL_FLAG(std::string, on, "",
          "state/pack/decision: evaluate deadlines on this date (YYYY-MM-DD; "
          "default today, or the decision's day).");
ABSL_FLAG(std::string, child, "",
          "chronology: the chronology of this child across their cases.");
ABSL_FLAG(std::string, agency, "",
          "chronology: single-agency view (only entries this agency "
          "recorded).");
ABSL_FLAG(bool, significant, false,
          "chronology: only entries marked significant.");
ABSL_FLAG(uint32_t, page_size, 0,
          "chronology/access: entries per page (1-1000); with it, one page is "
          "shown "
          "and the next page's token printed. Default: every page.");
ABSL_FLAG(std::string, page_token, "", "chronology/access: the page to show.");
ABSL_FLAG(uint64_t, min_position, 0,
          "chronology/state/pack: wait until the read model has folded every "
          "event below this position (read-your-writes).");
ABSL_FLAG(std::string, person, "",
          "access: only accesses by this person or system (user id).");
ABSL_FLAG(std::string, since, "",
          "access: only accesses recorded at or after this time (RFC 3339 or "
          "YYYY-MM-DD).");
ABSL_FLAG(std::string, until, "",
          "access: only accesses recorded before this time.");
ABSL_FLAG(std::string, flag, "",
          "access: only accesses with one of these flags (comma-separated: "
          "no_allocation, break_glass, bulk, restricted_record, refused).");
ABSL_FLAG(bool, digest, false,
          "projections status: also print a digest of the whole read model.");

namespace casetrail::tools {

const char kQueryUsage[] =
    R"(  chronology CASE   A case's chronology (--child=ID instead of CASE for a child across cases;
                    --as_known_at, --agency, --significant, --page_size, --page_token).
  state CASE        Case state: children, household, legal basis, allocation, consent, Channel,
                    deadlines evaluated --on a date, practice flags (--as_known_at).
  pack PERSON       The Channel panel pack for one individual (--as_known_at, --on).
  decision CASE EVENT_ID
                    Reconstruct a decision: the case as its maker saw it, and what was
                    corrected since.
  projections status|rebuild
                    How far the read models are behind the log (--digest); rebuild them.
  access [CASE]     Who read case data, when and why: the access audit of your local authority
                    (auditors; --person, --child, --since, --until, --flag, --page_size).
)";

namespace {

namespace v1 = ::casetrail::v1;

std::string Json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string text;
  (void)google::protobuf::util::MessageToJsonString(message, &text, options);
  return text;
}

// Times as England and Wales local time, the days the read models use
// (UTC if the zone database is missing).
std::string LocalTime(const google::protobuf::Timestamp& ts,
                      const char* format) {
  static const absl::TimeZone zone = [] {
    absl::TimeZone london;
    return absl::LoadTimeZone("Europe/London", &london) ? london
                                                        : absl::UTCTimeZone();
  }();
  return absl::FormatTime(
      format,
      absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos()),
      zone);
}

std::string Date(const v1::CivilDate& date) {
  if (date.year() == 0) return "-";
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(),
                         date.day());
}

bool ParseDate(const std::string& text, v1::CivilDate* out) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) return false;
  out->set_year(static_cast<int32_t>(day.year()));
  out->set_month(day.month());
  out->set_day(day.day());
  return true;
}

// Sets `*out` from the time `text` given as --`flag` (RFC 3339, or a date
// for the end of that day in UTC); false (after printing why) if malformed.
bool ParseTimeFlag(const std::string& text, const char* flag,
                   google::protobuf::Timestamp* out) {
  absl::Time t;
  std::string error;
  absl::CivilDay day;
  if (absl::ParseCivilTime(text, &day)) {
    t = absl::FromCivil(day + 1, absl::UTCTimeZone()) - absl::Nanoseconds(1);
  } else if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    Fail(2, absl::StrCat("--", flag, ": not RFC 3339 or YYYY-MM-DD: ", text));
    return false;
  }
  out->set_seconds(absl::ToUnixSeconds(t));
  out->set_nanos(
      static_cast<int32_t>((t - absl::FromUnixSeconds(absl::ToUnixSeconds(t))) /
                           absl::Nanoseconds(1)));
  return true;
}

// Sets `*out` from --as_known_at; false (after printing why) if malformed.
bool KnownAt(google::protobuf::Timestamp* out, bool* given) {
  const std::string text = absl::GetFlag(FLAGS_as_known_at);
  *given = !text.empty();
  return text.empty() || ParseTimeFlag(text, "as_known_at", out);
}

bool OnDate(v1::CivilDate* out) {
  const std::string text = absl::GetFlag(FLAGS_on);
  if (text.empty()) return true;
  if (!ParseDate(text, out)) {
    Fail(2, absl::StrCat("--on: not a date YYYY-MM-DD: ", text));
    return false;
  }
  return true;
}

void PrintProvenance(const v1::Provenance& p) {
  std::printf(
      "(%s at position %llu of %llu; rules %s v%u)\n",
      p.has_as_known_at()
          ? absl::StrCat("as known at ",
                         FormatTime(p.as_known_at(), "%Y-%m-%d %H:%M:%S UTC"))
                .c_str()
          : "as known now, read model",
      static_cast<unsigned long long>(p.position()),
      static_cast<unsigned long long>(p.log_size()), p.rule_set().c_str(),
      p.rule_set_version());
  if (p.withheld_events() > 0) {
    std::printf(
        "(%u restricted events withheld from you: this answer is made "
        "without them)\n",
        p.withheld_events());
  }
}

std::string When(const v1::ChronologyEntry& e) {
  const auto& at = e.occurred_at();
  switch (at.precision()) {
    case v1::TIME_PRECISION_EXACT:
      return LocalTime(at.time(), "%Y-%m-%d %H:%M");
    case v1::TIME_PRECISION_DAY:
      return Date(e.occurred_date());
    case v1::TIME_PRECISION_MONTH:
      return LocalTime(at.time(), "%Y-%m (month)");
    default:
      return "~" + Date(e.occurred_date());
  }
}

std::string Ages(const v1::ChronologyEntry& e) {
  std::vector<std::string> ages;
  for (const auto& age : e.child_ages()) {
    ages.push_back(
        age.known() ? absl::StrCat(age.years(), "y", age.months(), "m") : "?");
  }
  return ages.empty() ? "-" : absl::StrJoin(ages, ",");
}

void PrintEntries(
    const google::protobuf::RepeatedPtrField<v1::ChronologyEntry>& entries) {
  std::printf("%-17s %2s %-6s %-3s %-28s %s\n", "DATE", "#", "AGE", "SIG",
              "SOURCE", "ENTRY");
  for (const v1::ChronologyEntry& e : entries) {
    const bool reported =
        e.source().provenance() == v1::Source::PROVENANCE_REPORTED;
    std::string source =
        e.agency().empty() ? e.recorded_by().team() : e.agency();
    if (source.size() > 22) source = source.substr(0, 21) + "~";
    absl::StrAppend(&source, reported ? " (rep)" : " (1st)");
    const auto& sig = e.significance();
    const char* mark =
        !sig.significant()                                        ? ""
        : sig.direction() == v1::Significance::DIRECTION_POSITIVE ? "+"
        : sig.direction() == v1::Significance::DIRECTION_NEGATIVE ? "-"
                                                                  : "*";
    std::printf("%-17s %2u %-6s %-3s %-28s %s%s\n", When(e).c_str(),
                e.same_day_sequence(), Ages(e).c_str(), mark, source.c_str(),
                e.retracted() ? "[RETRACTED] " : "", e.headline().c_str());
    if (reported && !e.source().informant().empty()) {
      std::printf("%8s reported by %s\n", "", e.source().informant().c_str());
    }
    if (!e.action().empty()) {
      std::printf("%8s -> %s\n", "", e.action().c_str());
    }
    if (e.has_decision()) {
      std::string rationale = e.decision().rationale();
      if (rationale.size() > 200) rationale = rationale.substr(0, 197) + "...";
      std::printf(
          "%8s DECISION by %s: %s [basis: log position %llu%s]\n", "",
          e.decision().decided_by().name().c_str(), rationale.c_str(),
          static_cast<unsigned long long>(
              e.decision().information_basis_position()),
          e.decision().information_basis_event_ids().empty()
              ? ""
              : absl::StrCat(
                    ", events ",
                    absl::StrJoin(e.decision().information_basis_event_ids(),
                                  " "))
                    .c_str());
    }
    std::printf("%8s recorded %s by %s%s\n", "",
                LocalTime(e.recorded_at(), "%Y-%m-%d %H:%M").c_str(),
                e.recorded_by().user_id().c_str(),
                e.late_recording()
                    ? absl::StrCat(" [LATE: ", e.working_days_to_record(),
                                   " working days after]")
                          .c_str()
                    : "");
    for (const v1::Amendment& a : e.amendments()) {
      const std::string kind =
          projections::EnumWords(v1::Amendment::Kind_descriptor(), a.kind());
      std::printf(
          "%8s %s on %s by %s%s: %s (%s)\n", "",
          absl::AsciiStrToUpper(kind).c_str(),
          LocalTime(a.recorded_at(), "%Y-%m-%d").c_str(), a.by().c_str(),
          a.field_path().empty() ? ""
                                 : absl::StrCat(" ", a.field_path()).c_str(),
          a.kind() == v1::Amendment::KIND_CORRECTED
              ? absl::StrCat(a.old_value(), " -> ", a.new_value()).c_str()
              : a.text().c_str(),
          a.kind() == v1::Amendment::KIND_CORRECTED ? a.text().c_str()
                                                    : a.event_id().c_str());
    }
  }
}

int Chronology(v1::CaseQueries::Stub& stub,
               const std::vector<std::string>& args) {
  v1::GetChronologyRequest request;
  request.set_child_id(absl::GetFlag(FLAGS_child));
  if (args.size() == 3 && request.child_id().empty()) {
    request.set_case_id(args[2]);
  } else if (args.size() != 2 || request.child_id().empty()) {
    return Fail(2, "usage: casetrail chronology CASE | --child=ID");
  }
  bool known_at = false;
  if (!KnownAt(request.mutable_as_known_at(), &known_at)) return 2;
  if (!known_at) request.clear_as_known_at();
  request.set_agency(absl::GetFlag(FLAGS_agency));
  request.set_significant_only(absl::GetFlag(FLAGS_significant));
  request.set_min_position(absl::GetFlag(FLAGS_min_position));
  const bool one_page = absl::GetFlag(FLAGS_page_size) != 0 ||
                        !absl::GetFlag(FLAGS_page_token).empty();
  request.set_page_size(one_page ? absl::GetFlag(FLAGS_page_size) : 1000);
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  v1::GetChronologyResponse all;
  while (true) {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::GetChronologyResponse page;
    grpc::Status status = stub.GetChronology(&context, request, &page);
    if (!status.ok()) return FailRpc(status);
    all.mutable_entries()->MergeFrom(page.entries());
    all.set_total_entries(page.total_entries());
    *all.mutable_provenance() = page.provenance();
    all.set_next_page_token(page.next_page_token());
    if (one_page || page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", Json(all).c_str());
    return 0;
  }
  std::printf("Chronology of %s: %d of %u entries ",
              request.case_id().empty()
                  ? absl::StrCat("child ", request.child_id()).c_str()
                  : request.case_id().c_str(),
              all.entries_size(), all.total_entries());
  PrintProvenance(all.provenance());
  PrintEntries(all.entries());
  if (!all.next_page_token().empty()) {
    std::printf("next page: --page_token=%s\n", all.next_page_token().c_str());
  }
  return 0;
}

void PrintDeadlines(const v1::CaseState& state) {
  std::printf("\nDeadlines (evaluated on %s):\n",
              state.deadlines().empty()
                  ? "-"
                  : Date(state.deadlines(0).evaluated_on()).c_str());
  std::printf("  %-30s %-18s %-10s %-10s %-10s %-28s %s\n", "RULE", "FOR",
              "TRIGGER", "DUE", "MET", "STATUS", "NOTE");
  for (const v1::Deadline& d : state.deadlines()) {
    std::string note = d.error();
    if (d.extended_to().year() != 0) {
      note = absl::StrCat("extended to ", Date(d.extended_to()));
    }
    if (!d.late_reason().empty()) note = d.late_reason();
    if (!d.closed_reason().empty()) note = d.closed_reason();
    if (d.status() == v1::DEADLINE_STATUS_OVERDUE ||
        d.status() == v1::DEADLINE_STATUS_MET_LATE) {
      note = absl::StrCat(d.working_days_late(), " working days late",
                          note.empty() ? "" : "; ", note);
    }
    std::printf(
        "  %-28s %-14s %-10s %-10s %-10s %-30s %s\n",
        absl::StrCat(d.rule_id(), " v", d.rule_version()).c_str(),
        d.key().empty() ? "case" : d.key().c_str(),
        Date(d.trigger_date()).c_str(), Date(d.due()).c_str(),
        Date(d.met_on()).c_str(),
        projections::EnumWords(v1::DeadlineStatus_descriptor(), d.status())
            .c_str(),
        note.c_str());
  }
}

void PrintState(const v1::CaseState& s) {
  std::printf(
      "Case %s: %s, %s%s\n", s.case_id().c_str(),
      projections::EnumWords(v1::CaseStage_descriptor(), s.stage()).c_str(),
      projections::EnumWords(v1::Jurisdiction_descriptor(), s.jurisdiction())
          .c_str(),
      s.restriction() >= v1::RESTRICTION_LEVEL_RESTRICTED
          ? absl::StrCat(
                ", ", absl::AsciiStrToUpper(projections::EnumWords(
                          v1::RestrictionLevel_descriptor(), s.restriction())))
                .c_str()
          : "");
  std::printf("\nChildren:\n");
  for (const auto& c : s.children()) {
    std::printf(
        "  %-14s %-20s born %s; last seen %s, seen alone %s, bedroom seen "
        "%s\n",
        c.child_id().c_str(), c.name().c_str(), Date(c.date_of_birth()).c_str(),
        Date(c.last_seen()).c_str(), Date(c.last_seen_alone()).c_str(),
        Date(c.last_bedroom_seen()).c_str());
  }
  std::printf("\nHousehold:\n");
  for (const auto& m : s.household()) {
    std::printf("  %-14s %-20s %-16s%s%s\n", m.person_id().c_str(),
                m.name().c_str(), m.relationship().c_str(),
                m.parental_responsibility() ? " PR holder" : "",
                m.language().empty()
                    ? ""
                    : absl::StrCat(", language ", m.language()).c_str());
  }
  std::printf("\nLegal basis:\n");
  for (const auto& line : s.legal_basis()) std::printf("  %s\n", line.c_str());
  if (s.has_allocation()) {
    std::printf("\nAllocated to %s (%s), manager %s, since %s\n",
                s.allocation().worker().name().c_str(),
                s.allocation().team().c_str(),
                s.allocation().manager().name().c_str(),
                Date(s.allocation().since()).c_str());
  }
  if (!s.consents().empty()) std::printf("\nConsent:\n");
  for (const auto& c : s.consents()) {
    std::printf("  %-40s %s%s\n", c.purpose().c_str(),
                projections::EnumWords(v1::ConsentState::Status_descriptor(),
                                       c.status())
                    .c_str(),
                c.status() == v1::ConsentState::STATUS_OVERRIDDEN
                    ? absl::StrCat(" by ", c.overridden_by().name()).c_str()
                    : "");
  }
  if (!s.prevent_episodes().empty()) std::printf("\nPrevent and Channel:\n");
  for (const auto& e : s.prevent_episodes()) {
    std::printf("  %s %s: %s, referred %s, closed %s\n",
                e.prevent_referral_id().c_str(), e.channel_case_id().c_str(),
                projections::EnumWords(v1::ChannelStage_descriptor(), e.stage())
                    .c_str(),
                Date(e.referred_on()).c_str(), Date(e.closed_on()).c_str());
  }
  if (!s.outstanding_authorisations().empty()) {
    std::printf("\nOutstanding authorisations:\n");
  }
  for (const auto& o : s.outstanding_authorisations()) {
    std::printf("  since %s: %s (%s)\n", Date(o.since()).c_str(),
                o.description().c_str(), o.event_id().c_str());
  }
  std::printf("\nRe-referrals within 12 months: %u\n",
              s.re_referrals_within_12_months());
  PrintDeadlines(s);
  std::printf("\nPractice flags:\n");
  for (const auto& f : s.flags()) {
    std::printf(
        "  %s%s: %s%s\n", f.cleared() ? "(cleared) " : "",
        projections::EnumWords(v1::PracticeFlag::Kind_descriptor(), f.kind())
            .c_str(),
        f.description().c_str(),
        f.cleared()
            ? absl::StrCat(" [cleared by ", f.cleared_by_event_id(), "]")
                  .c_str()
            : "");
  }
}

int State(v1::CaseQueries::Stub& stub, const std::vector<std::string>& args) {
  if (args.size() != 3) return Fail(2, "usage: casetrail state CASE");
  v1::GetCaseStateRequest request;
  request.set_case_id(args[2]);
  bool known_at = false;
  if (!KnownAt(request.mutable_as_known_at(), &known_at)) return 2;
  if (!known_at) request.clear_as_known_at();
  if (!OnDate(request.mutable_evaluate_on())) return 2;
  request.set_min_position(absl::GetFlag(FLAGS_min_position));
  grpc::ClientContext context;
  SetDeadline(context);
  v1::GetCaseStateResponse response;
  grpc::Status status = stub.GetCaseState(&context, request, &response);
  if (!status.ok()) return FailRpc(status);
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", Json(response).c_str());
    return 0;
  }
  PrintProvenance(response.provenance());
  PrintState(response.state());
  return 0;
}

void PrintEvents(
    const char* title,
    const google::protobuf::RepeatedPtrField<v1::RecordedEvent>& events) {
  std::printf("\n%s\n", title);
  if (events.empty()) std::printf("  (none recorded)\n");
  for (const v1::RecordedEvent& e : events) {
    const projections::Headline headline = projections::MakeHeadline(e.event());
    std::printf("  %s  %s\n",
                LocalTime(e.event().occurred_at().time(), "%Y-%m-%d").c_str(),
                headline.headline.c_str());
    if (!headline.action.empty()) {
      std::printf("%14s-> %s\n", "", headline.action.c_str());
    }
    if (const v1::Decision* d = projections::DecisionOf(e.event())) {
      std::printf("%14sRationale: %s\n", "", d->rationale().c_str());
    }
  }
}

int Pack(v1::CaseQueries::Stub& stub, const std::vector<std::string>& args) {
  if (args.size() != 3) return Fail(2, "usage: casetrail pack PERSON");
  v1::GetChannelPanelPackRequest request;
  request.set_person_id(args[2]);
  bool known_at = false;
  if (!KnownAt(request.mutable_as_known_at(), &known_at)) return 2;
  if (!known_at) request.clear_as_known_at();
  if (!OnDate(request.mutable_pack_date())) return 2;
  request.set_min_position(absl::GetFlag(FLAGS_min_position));
  grpc::ClientContext context;
  SetDeadline(context);
  v1::GetChannelPanelPackResponse response;
  grpc::Status status = stub.GetChannelPanelPack(&context, request, &response);
  if (!status.ok()) return FailRpc(status);
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", Json(response).c_str());
    return 0;
  }
  const v1::ChannelPanelPack& p = response.pack();
  std::printf("CHANNEL PANEL PACK  %s  %s\n",
              p.cover().case_reference().c_str(),
              p.repeat_referral() ? "[REPEAT REFERRAL]" : "");
  PrintProvenance(response.provenance());
  std::printf("\n1. Cover\n  date %s; chair %s; restriction %s\n",
              Date(p.cover().pack_date()).c_str(),
              p.cover().chair().name().c_str(),
              projections::EnumWords(v1::RestrictionLevel_descriptor(),
                                     p.cover().restriction())
                  .c_str());
  for (const auto& a : p.cover().attendees()) {
    std::printf("  attendee: %s, %s (%s)\n", a.name().c_str(), a.role().c_str(),
                a.agency().c_str());
  }
  std::printf("  information sharing: %s\n  distribution: %s\n",
              p.cover().information_sharing_basis().c_str(),
              absl::StrJoin(p.cover().distribution(), "; ").c_str());
  const auto& i = p.individual();
  std::printf("\n2. Individual\n  %s %s, born %s (%s)\n", i.person_id().c_str(),
              i.name().c_str(), Date(i.date_of_birth()).c_str(),
              i.age().known() ? absl::StrCat(i.age().years(), " years").c_str()
                              : "age not recorded");
  for (const auto& m : i.household()) {
    std::printf("  household: %s (%s)%s\n", m.name().c_str(),
                m.relationship().c_str(),
                m.parental_responsibility() ? ", parental responsibility" : "");
  }
  for (const auto& line : i.current_status()) {
    std::printf("  status: %s\n", line.c_str());
  }
  PrintEvents("3. Referral", p.referrals());
  PrintEvents("4. Agency returns", p.agency_returns());
  PrintEvents("5. Vulnerability assessment", p.vulnerability_assessments());
  std::printf("\n6. Safeguarding context\n");
  for (const auto& line : p.safeguarding_context()) {
    std::printf("  %s\n", line.c_str());
  }
  PrintEvents("7. Consent", p.consent());
  PrintEvents("8. Support plan", p.support_plans());
  PrintEvents("9. Decisions", p.decisions());
  std::printf("\n10. Multi-agency chronology (significant entries)\n");
  PrintEntries(p.chronology_extract());
  std::printf("\n11. Prior Prevent and Channel history%s\n",
              p.repeat_referral() ? " [REPEAT REFERRAL]" : "");
  if (p.prior_episodes().empty()) std::printf("  (none)\n");
  for (const auto& e : p.prior_episodes()) {
    std::printf("  %s %s: %s, referred %s, closed %s, %d events\n",
                e.prevent_referral_id().c_str(), e.channel_case_id().c_str(),
                projections::EnumWords(v1::ChannelStage_descriptor(), e.stage())
                    .c_str(),
                Date(e.referred_on()).c_str(), Date(e.closed_on()).c_str(),
                e.events_size());
  }
  PrintEvents("12. Exit and closing report", p.exit());
  for (const auto& d : p.review_schedule()) {
    std::printf(
        "  review %s due %s: %s\n", d.rule_id().c_str(), Date(d.due()).c_str(),
        projections::EnumWords(v1::DeadlineStatus_descriptor(), d.status())
            .c_str());
  }
  return 0;
}

int Decision(v1::CaseQueries::Stub& stub,
             const std::vector<std::string>& args) {
  if (args.size() != 4)
    return Fail(2, "usage: casetrail decision CASE EVENT_ID");
  v1::ReconstructDecisionRequest request;
  request.set_case_id(args[2]);
  request.set_event_id(args[3]);
  if (!OnDate(request.mutable_evaluate_on())) return 2;
  grpc::ClientContext context;
  SetDeadline(context);
  v1::ReconstructDecisionResponse response;
  grpc::Status status = stub.ReconstructDecision(&context, request, &response);
  if (!status.ok()) return FailRpc(status);
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", Json(response).c_str());
    return 0;
  }
  const auto& e = response.decision_event();
  const auto& m = response.marker();
  std::printf(
      "%s %s, position %llu, occurred %s, recorded %s\n",
      e.event().event_type().c_str(), e.event().event_id().c_str(),
      static_cast<unsigned long long>(e.position()),
      LocalTime(e.event().occurred_at().time(), "%Y-%m-%d %H:%M").c_str(),
      LocalTime(e.recorded_at(), "%Y-%m-%d %H:%M").c_str());
  std::printf("Decided by %s (%s, %s)\nRationale: %s\n",
              m.decided_by().name().c_str(), m.decided_by().role().c_str(),
              projections::EnumWords(v1::AuthorityLevel_descriptor(),
                                     m.decided_by().authority_level())
                  .c_str(),
              m.rationale().c_str());
  std::printf(
      "Information basis: every event below log position %llu%s\n",
      static_cast<unsigned long long>(m.information_basis_position()),
      m.information_basis_event_ids().empty()
          ? ""
          : absl::StrCat("; relied on ",
                         absl::StrJoin(m.information_basis_event_ids(), ", "))
                .c_str());
  std::printf("\nLater corrections to what the decision relied on:\n");
  if (response.later_corrections().empty()) std::printf("  (none)\n");
  for (const auto& a : response.later_corrections()) {
    std::printf(
        "  %s on %s by %s: %s %s %s -> %s (%s)\n",
        projections::EnumWords(v1::Amendment::Kind_descriptor(), a.kind())
            .c_str(),
        LocalTime(a.recorded_at(), "%Y-%m-%d").c_str(), a.by().c_str(),
        a.target_event_id().c_str(), a.field_path().c_str(),
        a.old_value().c_str(), a.new_value().c_str(), a.text().c_str());
  }
  std::printf("\n--- The case as it stood for the decision ---\n");
  PrintState(response.state_at_basis());
  std::printf("\nChronology as known then:\n");
  PrintEntries(response.chronology_at_basis());
  return 0;
}

int Projections(v1::CaseQueries::Stub& stub,
                const std::vector<std::string>& args) {
  if (args.size() != 3 || (args[2] != "status" && args[2] != "rebuild")) {
    return Fail(2, "usage: casetrail projections status|rebuild");
  }
  grpc::ClientContext context;
  if (args[2] == "status") {
    SetDeadline(context);
    v1::GetProjectionStatusRequest request;
    request.set_digest(absl::GetFlag(FLAGS_digest));
    v1::GetProjectionStatusResponse response;
    grpc::Status status =
        stub.GetProjectionStatus(&context, request, &response);
    if (!status.ok()) return FailRpc(status);
    if (absl::GetFlag(FLAGS_json)) {
      std::printf("%s\n", Json(response).c_str());
      return 0;
    }
    std::printf(
        "read models at position %llu of %llu (%llu behind)\nfingerprint "
        "%s\nevents applied since start %llu, rebuilds %u\n",
        static_cast<unsigned long long>(response.checkpoint()),
        static_cast<unsigned long long>(response.log_size()),
        static_cast<unsigned long long>(response.lag_events()),
        response.fingerprint().c_str(),
        static_cast<unsigned long long>(response.events_applied()),
        response.rebuilds());
    if (!response.digest().empty()) {
      std::string hex;
      for (unsigned char c : response.digest()) {
        absl::StrAppend(&hex, absl::Hex(c, absl::kZeroPad2));
      }
      std::printf("digest %s\n", hex.c_str());
    }
    return 0;
  }
  // A rebuild takes as long as folding the whole log: no deadline.
  v1::RebuildProjectionsResponse response;
  grpc::Status status = stub.RebuildProjections(
      &context, v1::RebuildProjectionsRequest(), &response);
  if (!status.ok()) return FailRpc(status);
  if (absl::GetFlag(FLAGS_json)) {
    std::printf("%s\n", Json(response).c_str());
    return 0;
  }
  std::printf("rebuilt %llu cases from %llu events in %.2f s\n",
              static_cast<unsigned long long>(response.cases()),
              static_cast<unsigned long long>(response.position()),
              response.seconds());
  return 0;
}

int Access(const std::shared_ptr<grpc::Channel>& channel,
           const std::vector<std::string>& args) {
  if (args.size() > 3) {
    return Fail(2,
                "usage: casetrail access [CASE] [--person=ID] [--child=ID] "
                "[--since=T] [--until=T] [--flag=F,...]");
  }
  v1::ListAccessRequest request;
  if (args.size() == 3) request.set_case_id(args[2]);
  request.set_principal_id(absl::GetFlag(FLAGS_person));
  request.set_child_id(absl::GetFlag(FLAGS_child));
  if (const std::string since = absl::GetFlag(FLAGS_since);
      !since.empty() &&
      !ParseTimeFlag(since, "since", request.mutable_from_time())) {
    return 2;
  }
  if (const std::string until = absl::GetFlag(FLAGS_until);
      !until.empty() &&
      !ParseTimeFlag(until, "until", request.mutable_to_time())) {
    return 2;
  }
  for (absl::string_view name :
       absl::StrSplit(absl::GetFlag(FLAGS_flag), ',', absl::SkipEmpty())) {
    v1::AccessFlag flag;
    if (!v1::AccessFlag_Parse(
            absl::StrCat("ACCESS_FLAG_", absl::AsciiStrToUpper(name)), &flag) ||
        flag == v1::ACCESS_FLAG_UNSPECIFIED) {
      return Fail(2, absl::StrCat("--flag: unknown flag '", name,
                                  "' (no_allocation, break_glass, bulk, "
                                  "restricted_record, refused)"));
    }
    request.add_flags(flag);
  }
  request.set_limit(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  auto stub = v1::AccessAudit::NewStub(channel);
  // Every page unless --page_size asks for one.
  const bool one_page = absl::GetFlag(FLAGS_page_size) != 0;
  bool header = false;
  for (;;) {
    grpc::ClientContext context;
    SetDeadline(context);
    v1::ListAccessResponse response;
    grpc::Status status = stub->ListAccess(&context, request, &response);
    if (!status.ok()) return FailRpc(status);
    for (const v1::AccessEntry& e : response.entries()) {
      if (absl::GetFlag(FLAGS_json)) {
        std::printf("%s\n", Json(e).c_str());
        continue;
      }
      if (!header) {
        std::printf("%-16s  %-26s  %-18s  %-22s  %-26s  %s\n", "when (London)",
                    "who (role)", "purpose", "asked", "case / child",
                    "outcome");
        header = true;
      }
      const v1::AccessRecorded& a = e.access();
      std::vector<std::string> flags;
      for (int f : a.flags()) {
        flags.push_back(absl::AsciiStrToLower(
            v1::AccessFlag_Name(static_cast<v1::AccessFlag>(f)).substr(12)));
      }
      // Every stored text is escaped (tools/terminal_text.h): a reason or id
      // holding a line break must not print as a row of its own.
      const std::string method = TerminalText(
          absl::string_view(a.method()).substr(a.method().rfind('/') + 1));
      const std::string flags_text =
          flags.empty() ? "" : "  [" + absl::StrJoin(flags, ", ") + "]";
      const std::string glass_text =
          a.break_glass_reason().empty()
              ? ""
              : "  break-glass: \"" + TerminalText(a.break_glass_reason()) +
                    "\"";
      std::printf(
          "%-16s  %-26s  %-18s  %-22s  %-26s  %s%s%s\n",
          LocalTime(e.recorded_at(), "%Y-%m-%d %H:%M").c_str(),
          absl::StrCat(TerminalText(a.principal_id()), " (",
                       projections::EnumWords(v1::Role_descriptor(), a.role()),
                       ")")
              .c_str(),
          TerminalText(a.purpose()).c_str(), method.c_str(),
          TerminalText(a.case_id().empty() ? a.child_id() : a.case_id())
              .c_str(),
          TerminalText(a.refused() ? "REFUSED: " + a.refusal_reason()
                                   : a.response_summary())
              .c_str(),
          flags_text.c_str(), glass_text.c_str());
    }
    if (one_page || response.next_page_token().empty()) {
      if (!response.next_page_token().empty()) {
        std::printf("next page: --page_token=%s\n",
                    response.next_page_token().c_str());
      }
      break;
    }
    request.set_page_token(response.next_page_token());
  }
  if (!header && !absl::GetFlag(FLAGS_json)) std::printf("(no accesses)\n");
  return 0;
}

}  // namespace

bool IsQueryCommand(const std::string& command) {
  return command == "chronology" || command == "state" || command == "pack" ||
         command == "decision" || command == "projections" ||
         command == "access";
}

int QueryCommand(const std::shared_ptr<grpc::Channel>& channel,
                 const std::vector<std::string>& args) {
  const std::string& command = args[1];
  if (command == "access") return Access(channel, args);
  auto stub = v1::CaseQueries::NewStub(channel);
  if (command == "chronology") return Chronology(*stub, args);
  if (command == "state") return State(*stub, args);
  if (command == "pack") return Pack(*stub, args);
  if (command == "decision") return Decision(*stub, args);
  return Projections(*stub, args);
}

}  // namespace casetrail::tools
