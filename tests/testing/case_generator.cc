#include "tests/testing/case_generator.h"

#include <algorithm>
#include <deque>
#include <random>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "casetrail/v1/case_events.pb.h"
#include "eventstore/stored_event.h"
#include "google/protobuf/descriptor.h"
#include "projections/dates.h"
#include "tests/testing/case_events.h"

namespace casetrail::testing {
namespace {

namespace v1 = casetrail::v1;

using eventstore::ToProtoTime;

constexpr char kCouncil[] = "Northshire County Council (fictional)";
constexpr char kPolice[] = "Northshire Police (fictional)";
constexpr char kHealth[] = "Northshire NHS Foundation Trust (fictional)";
constexpr char kSystem[] = "mosaic";

// A practitioner who records events and takes decisions.
struct Staff {
  const char* id;
  const char* name;
  const char* role;
  const char* team;
  const char* agency;
  v1::AuthorityLevel level;
};

constexpr Staff kWorkers[] = {
    {"ns-lwilliams", "Laura Williams", "Social Worker", "Assessment Team East",
     kCouncil, v1::AUTHORITY_LEVEL_SOCIAL_WORKER},
    {"ns-tobi", "Tunde Obi", "Social Worker", "Assessment Team East", kCouncil,
     v1::AUTHORITY_LEVEL_SOCIAL_WORKER},
    {"ns-cmurray", "Ciara Murray", "Senior Social Worker",
     "Assessment Team West", kCouncil, v1::AUTHORITY_LEVEL_SOCIAL_WORKER},
    {"ns-pnowicka", "Paula Nowicka", "Social Worker", "Assessment Team West",
     kCouncil, v1::AUTHORITY_LEVEL_SOCIAL_WORKER},
    {"ns-rjames", "Rhys James", "Social Worker", "Child Protection Team North",
     kCouncil, v1::AUTHORITY_LEVEL_SOCIAL_WORKER},
    {"ns-shussain", "Sana Hussain", "Social Worker",
     "Child Protection Team North", kCouncil,
     v1::AUTHORITY_LEVEL_SOCIAL_WORKER},
};
constexpr Staff kMashWorker = {
    "ns-jpatel", "Jas Patel", "MASH Social Worker",
    "MASH",      kCouncil,    v1::AUTHORITY_LEVEL_SOCIAL_WORKER};
constexpr Staff kManagers[] = {
    {"ns-mbrennan", "Mark Brennan", "Team Manager", "Assessment Team East",
     kCouncil, v1::AUTHORITY_LEVEL_TEAM_MANAGER},
    {"ns-aokafor", "Adaeze Okafor", "Team Manager", "MASH", kCouncil,
     v1::AUTHORITY_LEVEL_TEAM_MANAGER},
    {"ns-gfoster", "Gemma Foster", "Team Manager",
     "Child Protection Team North", kCouncil, v1::AUTHORITY_LEVEL_TEAM_MANAGER},
};
constexpr Staff kChairs[] = {
    {"ns-rdesai", "Rupa Desai", "Independent Child Protection Chair",
     "Safeguarding Unit", kCouncil, v1::AUTHORITY_LEVEL_CHAIR},
    {"ns-jmorgan", "Julia Morgan", "Independent Child Protection Chair",
     "Safeguarding Unit", kCouncil, v1::AUTHORITY_LEVEL_CHAIR},
};
constexpr Staff kCoordinator = {
    "ns-ncarter", "Nadia Carter", "Prevent Coordinator",
    "Prevent",    kCouncil,       v1::AUTHORITY_LEVEL_SOCIAL_WORKER};
constexpr Staff kGatewayOfficer = {
    "nsp-dward", "DS Daniel Ward", "Prevent Gateway Officer",
    "Prevent",   kPolice,          v1::AUTHORITY_LEVEL_POLICE};
constexpr Staff kPanelChair = {
    "ns-pmorrow",       "Paul Morrow", "Channel Panel Chair",
    "Community Safety", kCouncil,      v1::AUTHORITY_LEVEL_CHAIR};
constexpr Staff kHeadOfService = {
    "ns-sharcourt", "Sarah Harcourt", "Head of Service",
    "Safeguarding", kCouncil,         v1::AUTHORITY_LEVEL_HEAD_OF_SERVICE};

constexpr const char* kChildNames[] = {
    "Maisie", "Callum", "Ava",  "Leo",   "Amelia", "Noah",  "Isla",
    "Oscar",  "Freya",  "Kai",  "Ruby",  "Jayden", "Zara",  "Alfie",
    "Poppy",  "Tyler",  "Lily", "Mason", "Evie",   "Harvey"};
constexpr const char* kMotherNames[] = {"Kerry", "Joanne", "Agnieszka",
                                        "Sadia", "Leanne", "Chloe",
                                        "Amina", "Natalie"};
constexpr const char* kFatherNames[] = {"Lee",   "Darren", "Piotr",  "Imran",
                                        "Craig", "Jamie",  "Tomasz", "Ryan"};
struct Surname {
  const char* name;
  const char* language;
};
constexpr Surname kSurnames[] = {
    {"Thornton", "English"}, {"Reeve", "English"},    {"Kowalski", "Polish"},
    {"Ahmed", "Urdu"},       {"Walsh", "English"},    {"Okoro", "English"},
    {"Nowak", "Polish"},     {"Begum", "Bengali"},    {"Price", "English"},
    {"Murphy", "English"},   {"Popescu", "Romanian"}, {"Evans", "English"}};

struct Referral {
  const char* source_code;
  const char* role;
  const char* agency;
  // With {child} for the child's first name.
  const char* concern;
};
constexpr Referral kReferrals[] = {
    {"2A", "class teacher", "Elm Park Primary School (fictional)",
     "{child} arrived at breakfast club with a bruise on the upper arm that "
     "looks "
     "like finger marks, and said an adult at home grabbed them. The school "
     "nurse has seen and body-mapped the bruise."},
    {"3C", "school nurse", kHealth,
     "On a home visit the house was cold, there was little food, and {child} "
     "was unwashed and had missed two dental appointments. Mother seemed "
     "low and said she was not coping since her partner left."},
    {"5A", "police constable", kPolice,
     "Police attended a domestic incident at the family home at 23:40. {child} "
     "was awake and upset and saw the argument; a neighbour says this is "
     "the third incident this month."},
    {"3A", "GP", "Riverside Medical Practice (fictional)",
     "{child} was brought in with a burn on the hand that the explanation "
     "given "
     "does not fit; the family has missed three appointments this year."},
    {"2A", "Designated Safeguarding Lead", "Harbour Lane Academy (fictional)",
     "{child} has missed 40% of school this term and told a teaching assistant "
     "there is often no one at home in the evenings."},
};

// Deterministic pseudo-random numbers: mt19937_64 is specified exactly by
// the standard, the library's distributions are not, so we draw our own.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  // Uniform in [lo, hi].
  int Between(int lo, int hi) {
    return lo +
           static_cast<int>(engine_() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool OneIn(int n) { return engine_() % static_cast<uint64_t>(n) == 0; }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[engine_() % N];
  }

 private:
  std::mt19937_64 engine_;
};

uint64_t Mix(uint64_t seed, uint64_t index, uint64_t stream) {
  // splitmix64 of the three, so that neighbouring seeds differ everywhere.
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + index * 0xBF58476D1CE4E5B9ull +
               stream * 0x94D049BB133111EBull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

using casetrail::projections::ToDate;

std::string DateJson(absl::CivilDay day) {
  return absl::StrFormat("{\"year\":%d,\"month\":%d,\"day\":%d}", day.year(),
                         day.month(), day.day());
}

bool IsWeekend(absl::CivilDay day) {
  const absl::Weekday w = absl::GetWeekday(day);
  return w == absl::Weekday::saturday || w == absl::Weekday::sunday;
}

// `day`, or the Monday after if it falls at a weekend.
absl::CivilDay Weekday(absl::CivilDay day) {
  while (IsWeekend(day)) ++day;
  return day;
}

absl::CivilDay AddWorkingDays(absl::CivilDay day, int n) {
  for (int i = 0; i < n; ++i) day = Weekday(day + 1);
  return day;
}

absl::Time At(absl::CivilDay day, int hour, int minute) {
  return absl::FromCivil(
      absl::CivilMinute(day.year(), day.month(), day.day(), hour, minute),
      absl::UTCTimeZone());
}

int AgeOn(absl::CivilDay born, absl::CivilDay day) {
  int age = static_cast<int>(day.year() - born.year());
  if (day.month() < born.month() ||
      (day.month() == born.month() && day.day() < born.day())) {
    --age;
  }
  return age;
}

// The people of one family, drawn from (seed, family index) alone, so that
// a re-referral can meet the same family again.
struct Person {
  std::string id;
  std::string name;
  absl::CivilDay born;
};
struct Family {
  Surname surname;
  Person mother;
  Person father;
  // Eldest first.
  std::vector<Person> children;
};

Family MakeFamily(uint64_t seed, size_t index) {
  Random rng(Mix(seed, index, 1));
  Family family;
  family.surname = rng.Pick(kSurnames);
  auto person = [&](int n, const char* first, absl::CivilDay born) {
    return Person{absl::StrFormat("NS-P-%d-%07d", seed, index * 10 + n),
                  absl::StrCat(first, " ", family.surname.name), born};
  };
  family.mother =
      person(1, rng.Pick(kMotherNames),
             absl::CivilDay(rng.Between(1980, 1998), rng.Between(1, 12),
                            rng.Between(1, 28)));
  family.father =
      person(2, rng.Pick(kFatherNames),
             absl::CivilDay(rng.Between(1976, 1996), rng.Between(1, 12),
                            rng.Between(1, 28)));
  const int children = rng.OneIn(2) ? 1 : (rng.OneIn(3) ? 3 : 2);
  int year = rng.Between(2008, 2014);
  for (int k = 0; k < children; ++k) {
    family.children.push_back(
        person(3 + k, kChildNames[(index * 3 + k) % std::size(kChildNames)],
               absl::CivilDay(year, rng.Between(1, 12), rng.Between(1, 28))));
    year += rng.Between(1, 3);
  }
  return family;
}

enum class CaseKind { kChildProtection, kAssessment, kChannel };

// One generated event before the case is put in recording order.
struct Planned {
  v1::CaseEvent event;
  absl::Time recorded_at;
  // Creation order, to break ties.
  int order;
};

// Writes one case's story. Each step adds events with the time they occurred
// and a recording lag; Finish() orders them by recording time and keeps the
// first `events_per_case`.
class CaseWriter {
 public:
  CaseWriter(uint64_t seed, size_t index, size_t events_per_case)
      : rng_(Mix(seed, index, 2)),
        case_id_(absl::StrFormat("case-%d-%06d", seed, index)),
        target_events_(events_per_case) {
    // About one case in twenty is a re-referral of a family seen ten cases
    // before.
    const bool re_referral = index >= 10 && rng_.OneIn(20);
    family_ = MakeFamily(seed, re_referral ? index - 10 : index);
    start_ = Weekday(absl::CivilDay(2024, 1, 8) + rng_.Between(0, 810));
    worker_ = &rng_.Pick(kWorkers);
    manager_ = &rng_.Pick(kManagers);
    chair_ = &rng_.Pick(kChairs);
    referral_ = &rng_.Pick(kReferrals);
    const int eldest_age = AgeOn(family_.children[0].born, start_);
    if (eldest_age >= 12 && eldest_age < 18 && rng_.OneIn(3)) {
      kind_ = CaseKind::kChannel;
      // A Channel case concerns one young person, referred by their school.
      family_.children.resize(1);
      referral_ = &kReferrals[4];
    } else {
      kind_ =
          rng_.OneIn(3) ? CaseKind::kAssessment : CaseKind::kChildProtection;
    }
    for (const Person& child : family_.children) {
      child_ids_.push_back(child.id);
    }
  }

  GeneratedCase Write() {
    Opening();
    switch (kind_) {
      case CaseKind::kChildProtection:
        ChildProtection();
        break;
      case CaseKind::kAssessment:
        Assessment();
        break;
      case CaseKind::kChannel:
        Channel();
        break;
    }
    return Finish();
  }

 private:
  // --- Envelope ---

  // A new event of the case, occurring at `occurred` and recorded `lag`
  // later by `by`. The caller sets the payload; event_type follows it.
  v1::CaseEvent& Add(
      absl::Time occurred, absl::Duration lag, const Staff& by,
      v1::Source::Provenance provenance = v1::Source::PROVENANCE_FIRST_HAND,
      const std::string& informant = "") {
    Planned& p = planned_.emplace_back();
    p.order = static_cast<int>(planned_.size());
    p.recorded_at = occurred + lag;
    v1::CaseEvent& e = p.event;
    e.set_event_id(absl::StrFormat("%s-e%03d", case_id_, p.order));
    e.set_stream_id(case_id_);
    e.set_schema_version(1);
    *e.mutable_occurred_at()->mutable_time() = ToProtoTime(occurred);
    e.mutable_occurred_at()->set_precision(v1::TIME_PRECISION_EXACT);
    v1::RecordedBy* recorder = e.mutable_recorded_by();
    recorder->set_user_id(by.id);
    recorder->set_role(by.role);
    recorder->set_team(by.team);
    recorder->set_agency(by.agency);
    v1::Source* source = e.mutable_source();
    source->set_system(kSystem);
    source->set_source_record_id(
        absl::StrFormat("REC-%s-%03d", case_id_.substr(5), p.order));
    source->set_provenance(provenance);
    source->set_informant(informant);
    e.set_correlation_id(absl::StrCat("referral-", case_id_));
    e.set_jurisdiction(v1::JURISDICTION_ENGLAND);
    for (const std::string& id : child_ids_) e.add_child_ids(id);
    if (kind_ == CaseKind::kChannel) {
      e.set_restriction(v1::RESTRICTION_LEVEL_RESTRICTED);
    }
    return e;
  }

  // Recording lag: within the hour. (Visits are sometimes recorded days
  // late; see Visit().)
  absl::Duration Lag() { return absl::Minutes(rng_.Between(5, 40)); }

  static v1::Participant ParticipantOf(const Staff& s) {
    v1::Participant p;
    p.set_id(s.id);
    p.set_name(s.name);
    p.set_role(s.role);
    p.set_agency(s.agency);
    return p;
  }

  static void Decide(v1::Decision* d, const Staff& who, std::string rationale,
                     const std::string& legal_basis = "") {
    v1::DecisionMaker* by = d->mutable_decided_by();
    by->set_id(who.id);
    by->set_name(who.name);
    by->set_role(absl::StrCat(who.role, ", ", who.team));
    by->set_authority_level(who.level);
    d->set_rationale(std::move(rationale));
    d->set_legal_basis(legal_basis);
  }

  const std::string& child_name(int k) const {
    return family_.children[k].name;
  }
  std::string first_child() const {
    const std::string& name = family_.children[0].name;
    return name.substr(0, name.find(' '));
  }

  // --- The story ---

  // Contact, household and referral decision, common to every kind.
  void Opening() {
    absl::Time t = At(start_, rng_.Between(8, 11), rng_.Between(0, 59));
    {
      v1::CaseEvent& e =
          Add(t, absl::Minutes(rng_.Between(5, 20)), kMashWorker,
              v1::Source::PROVENANCE_REPORTED,
              absl::StrCat(referral_->role, ", ", referral_->agency));
      v1::ContactReceived* c = e.mutable_contact_received();
      c->set_source_code(referral_->source_code);
      c->mutable_referrer()->set_name(absl::StrCat(rng_.Pick(kMotherNames), " ",
                                                   rng_.Pick(kSurnames).name));
      c->mutable_referrer()->set_role(referral_->role);
      c->mutable_referrer()->set_agency(referral_->agency);
      c->mutable_referrer()->set_contact_details("01632 960 214");
      c->set_concern(
          kind_ == CaseKind::kChannel
              ? absl::StrCat(first_child(),
                             " has shared extreme right-wing memes in a "
                             "year group chat and spoke in class about a "
                             "coming 'race war'. The web filter flagged "
                             "searches for a proscribed group.")
              : absl::StrReplaceAll(referral_->concern,
                                    {{"{child}", first_child()}}));
      e.mutable_significance()->set_significant(true);
      e.mutable_significance()->set_direction(
          v1::Significance::DIRECTION_NEGATIVE);
      e.mutable_significance()->set_why("The concern that opened the case.");
      contact_id_ = e.event_id();
      basis_ids_.push_back(contact_id_);
    }
    // The household, from records, entered in one sitting: each child
    // (person_id the child's id), then the parents.
    t = planned_.back().recorded_at + absl::Minutes(rng_.Between(10, 40));
    const absl::Duration sitting = Lag();
    for (size_t k = 0; k < family_.children.size(); ++k) {
      const Person& child = family_.children[k];
      v1::CaseEvent& e = Add(t, sitting, kMashWorker,
                             v1::Source::PROVENANCE_REPORTED, "school records");
      e.clear_child_ids();
      e.add_child_ids(child.id);
      v1::HouseholdMemberRecorded* m = e.mutable_household_member_recorded();
      m->set_person_id(child.id);
      m->set_name(child.name);
      *m->mutable_date_of_birth() = ToDate(child.born);
      m->set_relationship("subject child");
      m->set_language("English");
      basis_ids_.push_back(e.event_id());
    }
    for (const Person* parent : {&family_.mother, &family_.father}) {
      v1::CaseEvent& e =
          Add(t, sitting, kMashWorker, v1::Source::PROVENANCE_REPORTED,
              "2019 early help record");
      v1::HouseholdMemberRecorded* m = e.mutable_household_member_recorded();
      m->set_person_id(parent->id);
      m->set_name(parent->name);
      *m->mutable_date_of_birth() = ToDate(parent->born);
      m->set_relationship(parent == &family_.mother ? "mother" : "father");
      m->set_parental_responsibility(true);
      m->set_language(family_.surname.language);
      if (std::string(family_.surname.language) != "English") {
        m->set_communication_needs(
            absl::StrCat("Interpreter (", family_.surname.language,
                         ") for meetings and assessments"));
      }
      basis_ids_.push_back(e.event_id());
      if (parent == &family_.father) father_event_id_ = e.event_id();
    }
    // Parents whose first language is not English mostly get an
    // interpreter; when no decision is recorded, the fold flags it (rule 8).
    if (std::string(family_.surname.language) != "English" && !rng_.OneIn(4)) {
      for (const Person* parent : {&family_.mother, &family_.father}) {
        v1::CaseEvent& e = Add(t + absl::Minutes(20), sitting, kMashWorker);
        v1::InterpreterDecision* d = e.mutable_interpreter_decision();
        Decide(d->mutable_decision(), kMashWorker,
               absl::StrCat(parent->name, " prefers ", family_.surname.language,
                            "; an interpreter lets them follow and take "
                            "part."));
        d->set_person_id(parent->id);
        d->set_language(family_.surname.language);
        d->set_interpreter_used(true);
      }
    }
    // The referral decision, the same morning or afternoon.
    t += absl::Minutes(rng_.Between(60, 180));
    {
      const Staff& tm = kManagers[1];  // The MASH manager.
      v1::CaseEvent& e = Add(t, Lag(), tm);
      e.set_causation_id(contact_id_);
      v1::ReferralDecision* r = e.mutable_referral_decision();
      switch (kind_) {
        case CaseKind::kChildProtection:
          r->set_outcome(v1::REFERRAL_OUTCOME_STRATEGY_DISCUSSION);
          r->set_primary_need(v1::PRIMARY_NEED_N1_ABUSE_OR_NEGLECT);
          Decide(r->mutable_decision(), tm,
                 absl::StrCat("The concern about ", first_child(),
                              " gives reasonable cause to suspect significant "
                              "harm, so it needs a multi-agency strategy "
                              "discussion rather than a single-agency "
                              "assessment."),
                 "Children Act 1989 s47");
          break;
        case CaseKind::kAssessment:
          r->set_outcome(v1::REFERRAL_OUTCOME_ASSESSMENT);
          r->set_primary_need(v1::PRIMARY_NEED_N4_FAMILY_IN_ACUTE_STRESS);
          Decide(r->mutable_decision(), tm,
                 "No sign of significant harm, but the family's needs are "
                 "not clear and earlier help has not worked: a child and "
                 "family assessment will find out what support is needed.",
                 "Children Act 1989 s17");
          break;
        case CaseKind::kChannel:
          r->set_outcome(v1::REFERRAL_OUTCOME_ADVICE);
          r->set_primary_need(v1::PRIMARY_NEED_N9_NOT_IN_NEED);
          Decide(r->mutable_decision(), tm,
                 "Nothing suggests harm within the family; the concern is "
                 "susceptibility to radicalisation, which is what the "
                 "Prevent route is for. Advice to the school and family.");
          break;
      }
      for (const std::string& id : basis_ids_) {
        r->mutable_decision()->mutable_information_basis()->add_event_ids(id);
      }
      *r->mutable_referrer_acknowledged_at() =
          ToProtoTime(t + absl::Minutes(rng_.Between(30, 120)));
    }
    opened_at_ = t;
  }

  void Allocate(absl::Time t) {
    v1::CaseEvent& e = Add(t, Lag(), *manager_);
    v1::CaseAllocated* a = e.mutable_case_allocated();
    *a->mutable_worker() = ParticipantOf(*worker_);
    a->set_team(worker_->team);
    *a->mutable_manager() = ParticipantOf(*manager_);
    a->set_reason("New referral from MASH.");
  }

  void StartAssessments(absl::Time t) {
    for (size_t k = 0; k < family_.children.size(); ++k) {
      v1::CaseEvent& e = Add(t, Lag(), *worker_);
      e.clear_child_ids();
      e.add_child_ids(child_ids_[k]);
      v1::AssessmentStarted* a = e.mutable_assessment_started();
      assessment_ids_.push_back(absl::StrFormat("CFA-%s-%d", case_id_, k + 1));
      a->set_assessment_id(assessment_ids_.back());
      a->set_child_id(child_ids_[k]);
      a->set_framework(v1::ASSESSMENT_FRAMEWORK_CA1989_S17);
      *a->mutable_start_date() = ToDate(start_);
    }
  }

  // A home visit on `day`; now and then recorded days late, and now and then
  // a child is not seen alone (which a manager may later accept).
  void Visit(absl::CivilDay day, v1::VisitType type, int* budget) {
    const absl::Time t = At(day, rng_.Between(9, 16), rng_.Between(0, 59));
    const absl::Duration lag =
        rng_.OneIn(8) ? absl::Hours(24 * rng_.Between(3, 6)) : Lag();
    v1::CaseEvent& e = Add(t, lag, *worker_);
    const absl::Time recorded = planned_.back().recorded_at;
    v1::VisitCompleted* v = e.mutable_visit_completed();
    v->set_visit_type(type);
    v->set_at_home(true);
    std::string not_alone;
    for (size_t k = 0; k < family_.children.size(); ++k) {
      v1::ChildSeen* seen = v->add_children();
      seen->set_child_id(child_ids_[k]);
      seen->set_seen(!rng_.OneIn(20));
      const bool can_be_alone = AgeOn(family_.children[k].born, day) >= 4;
      seen->set_seen_alone(seen->seen() && can_be_alone && !rng_.OneIn(6));
      seen->set_bedroom_seen(seen->seen() && !rng_.OneIn(3));
      if (seen->seen() && can_be_alone && !seen->seen_alone()) {
        not_alone = child_ids_[k];
      }
    }
    --*budget;
    if (!not_alone.empty() && *budget > 0 && rng_.OneIn(2)) {
      const std::string visit_id = e.event_id();
      v1::CaseEvent& a = Add(recorded + absl::Hours(20), Lag(), *manager_);
      a.clear_child_ids();
      a.add_child_ids(not_alone);
      v1::ChildNotSeenAloneAuthorised* auth =
          a.mutable_child_not_seen_alone_authorised();
      auth->set_child_id(not_alone);
      auth->set_visit_event_id(visit_id);
      Decide(auth->mutable_decision(), *manager_,
             "Mother would not leave the room and the child was distressed "
             "when asked to talk alone; seen alone at school two days later "
             "instead.");
      --*budget;
    }
  }

  void CoreGroup(absl::CivilDay day, const char* summary) {
    v1::CaseEvent& e = Add(At(day, 14, 0), Lag(), *worker_);
    v1::CoreGroupHeld* c = e.mutable_core_group_held();
    c->set_plan_id(plan_id_);
    *c->add_attendees() = ParticipantOf(*worker_);
    v1::Participant* school = c->add_attendees();
    school->set_name("Helen Ashby");
    school->set_role("Designated Safeguarding Lead");
    school->set_agency("Elm Park Primary School (fictional)");
    v1::Participant* mother = c->add_attendees();
    mother->set_id(family_.mother.id);
    mother->set_name(family_.mother.name);
    mother->set_role("mother");
    c->set_summary(summary);
    v1::Action* action = c->add_actions();
    action->set_description(
        "Weekly visits to continue; school to report "
        "attendance every Friday.");
    *action->mutable_owner() = ParticipantOf(*worker_);
    *action->mutable_due() = ToDate(day + 14);
    *c->mutable_next_meeting() = ToDate(Weekday(day + 28));
  }

  void Supervision(absl::CivilDay day) {
    v1::CaseEvent& e = Add(At(day, 10, 30), Lag(), *manager_);
    v1::SupervisionRecorded* s = e.mutable_supervision_recorded();
    Decide(s->mutable_decision(), *manager_,
           "The plan is holding: the children are seen regularly and the "
           "family engages. Keep the current level of visits and review at "
           "the next core group.");
    *s->mutable_supervisee() = ParticipantOf(*worker_);
    s->set_discussion(
        "Case discussion: progress against the plan, "
        "father's engagement, school attendance.");
    s->mutable_risk()->set_likelihood(v1::RISK_RATING_MEDIUM);
    s->mutable_risk()->set_severity(v1::RISK_RATING_HIGH);
    s->mutable_risk()->set_timescale("within weeks if the plan breaks down");
  }

  // A correction of the father's date of birth, which the referral decision
  // relied on.
  void Correction(absl::CivilDay day) {
    v1::CaseEvent& e = Add(At(day, 9, 15), Lag(), *worker_);
    v1::RecordCorrected* c = e.mutable_record_corrected();
    c->set_target_event_id(father_event_id_);
    c->set_field_path("household_member_recorded.date_of_birth");
    c->set_old_value(DateJson(family_.father.born));
    c->set_new_value(DateJson(family_.father.born - 365 * 2 - 9));
    c->set_reason(
        "The date of birth was copied from an old early help "
        "record, which had it wrong.");
    c->set_source("Passport seen at the home visit.");
    *c->mutable_valid_from() = ToProtoTime(opened_at_);
    v1::DecisionMaker* by = c->mutable_approved_by();
    by->set_id(manager_->id);
    by->set_name(manager_->name);
    by->set_role(manager_->role);
    by->set_authority_level(manager_->level);
  }

  void AuthoriseAssessments(absl::CivilDay day, v1::AssessmentOutcome outcome,
                            v1::StatutoryBasis basis) {
    for (size_t k = 0; k < assessment_ids_.size(); ++k) {
      v1::CaseEvent& e = Add(At(day, 13, 0), Lag(), *worker_);
      e.clear_child_ids();
      e.add_child_ids(child_ids_[k]);
      v1::AssessmentAuthorised* a = e.mutable_assessment_authorised();
      Decide(a->mutable_decision(), *manager_,
             absl::StrCat("Assessment of ", child_name(static_cast<int>(k)),
                          " complete. The child's needs and the parents' "
                          "capacity to meet them are analysed; the outcome "
                          "follows from the risks and strengths found."));
      a->set_assessment_id(assessment_ids_[k]);
      a->set_child_id(child_ids_[k]);
      a->add_outcomes(outcome);
      a->add_basis(basis);
      a->set_child_seen(true);
      a->set_outcome_shared_in_writing(true);
    }
  }

  void Close(absl::CivilDay day, v1::CaseClosureReason reason,
             const Staff& who) {
    v1::CaseEvent& e = Add(At(day, 10, 0), Lag(), who);
    v1::CaseClosed* c = e.mutable_case_closed();
    Decide(c->mutable_decision(), who,
           "The work the case was opened for is done and no child in it is "
           "in need of services from this team; the family knows how to get "
           "help again.");
    c->set_reason(reason);
    c->set_step_down(reason == v1::CASE_CLOSURE_REASON_RC7_SERVICES_CEASED);
    if (c->step_down()) c->set_step_down_to("Early Help Team North");
  }

  // How many events are left for the visits, meetings or sessions that fill
  // the case out, given `fixed` more events of the story still to come.
  int Filler(int fixed) const {
    return std::max<int>(0, static_cast<int>(target_events_) -
                                static_cast<int>(planned_.size()) - fixed);
  }

  // The case's length in days, for `filler` events spread through it.
  static int Length(int minimum, int filler) {
    return std::clamp(minimum + 7 * filler, minimum, 240);
  }

  void ChildProtection() {
    const int children = static_cast<int>(family_.children.size());
    const absl::Time t = opened_at_ + absl::Minutes(60);
    Allocate(t);
    StartAssessments(t + absl::Minutes(5));
    // Strategy discussion the same afternoon or the next working day, then
    // the s47 enquiry.
    absl::CivilDay strategy_day = start_;
    if (rng_.OneIn(2) || At(start_, 15, 30) < t + absl::Hours(1)) {
      strategy_day = AddWorkingDays(start_, 1);
    }
    {
      v1::CaseEvent& e = Add(At(strategy_day, 15, 30), Lag(), *worker_);
      v1::StrategyDiscussionHeld* s = e.mutable_strategy_discussion_held();
      Decide(s->mutable_decision(), *manager_,
             "Police, health and children's services agree there is "
             "reasonable cause to suspect significant harm. The enquiry is "
             "joint because a crime may have been committed.",
             "Children Act 1989 s47");
      s->set_format(v1::MEETING_FORMAT_VIDEO);
      *s->mutable_chair() = ParticipantOf(*manager_);
      *s->add_attendees() = ParticipantOf(*worker_);
      *s->add_attendees() = ParticipantOf(kGatewayOfficer);
      v1::Participant* nurse = s->add_attendees();
      nurse->set_name("Amy Choi");
      nurse->set_role("Named Nurse for Safeguarding");
      nurse->set_agency(kHealth);
      s->set_information_shared(
          "Police: two call-outs to the address this "
          "year. Health: missed appointments.");
      s->set_s47_enquiry(true);
      s->set_enquiry_type(v1::ENQUIRY_TYPE_JOINT);
      s->set_parents_told("Mother told by the social worker at the visit.");
      strategy_id_ = e.event_id();
    }
    {
      v1::CaseEvent& e = Add(At(strategy_day, 16, 30), Lag(), *worker_);
      v1::S47Started* s = e.mutable_s47_started();
      enquiry_id_ = absl::StrCat("S47-", case_id_);
      s->set_enquiry_id(enquiry_id_);
      s->set_strategy_discussion_event_id(strategy_id_);
      s->set_enquiry_type(v1::ENQUIRY_TYPE_JOINT);
      *s->mutable_lead_worker() = ParticipantOf(*worker_);
    }
    int visits_budget = 1;
    Visit(AddWorkingDays(strategy_day, 1), v1::VISIT_TYPE_S47, &visits_budget);
    const absl::CivilDay concluded = AddWorkingDays(strategy_day, 8);
    {
      v1::CaseEvent& e = Add(At(concluded, 15, 0), Lag(), *worker_);
      v1::S47Concluded* s = e.mutable_s47_concluded();
      Decide(s->mutable_decision(), *manager_,
             "Concerns substantiated: the children's accounts are "
             "consistent and the injuries match them. An initial child "
             "protection conference is needed.");
      s->set_enquiry_id(enquiry_id_);
      s->set_outcome(v1::S47_OUTCOME_ICPC);
    }
    const absl::CivilDay icpc = AddWorkingDays(strategy_day, 13);
    plan_id_ = absl::StrCat("CPP-", case_id_);
    {
      v1::CaseEvent& e = Add(At(icpc, 10, 0), Lag(), *chair_);
      v1::ConferenceHeld* c = e.mutable_conference_held();
      Decide(c->mutable_decision(), *chair_,
             "All agencies agree the children have suffered significant "
             "harm and the risk continues; a child protection plan is "
             "needed for each child.",
             "Working Together to Safeguard Children 2023");
      c->set_conference_id(absl::StrCat("ICPC-", case_id_));
      c->set_conference_type(v1::CONFERENCE_TYPE_ICPC);
      c->set_quorate(true);
      *c->add_attendees() = ParticipantOf(*worker_);
      *c->add_attendees() = ParticipantOf(kGatewayOfficer);
      c->set_child_participation("Views gathered by the social worker.");
      c->set_parents_participation("Mother attended with an advocate.");
      for (int k = 0; k < children; ++k) {
        v1::ChildPlanDecision* d = c->add_child_decisions();
        d->set_child_id(child_ids_[k]);
        d->set_plan_decision(v1::CONFERENCE_PLAN_DECISION_PLAN_STARTED);
        d->add_categories(rng_.OneIn(2) ? v1::ABUSE_CATEGORY_NEGLECT
                                        : v1::ABUSE_CATEGORY_PHYSICAL);
      }
      *c->add_core_group() = ParticipantOf(*worker_);
      *c->mutable_next_review_due() = ToDate(icpc + 91);
      e.mutable_significance()->set_significant(true);
      e.mutable_significance()->set_direction(
          v1::Significance::DIRECTION_NEGATIVE);
      e.mutable_significance()->set_why("Child protection plans started.");
    }
    CoreGroup(AddWorkingDays(icpc, 8),
              "First core group: plan explained to "
              "the family; safety plan agreed.");
    Correction(AddWorkingDays(icpc, 9));

    // What is left: assessments authorised, the review conference, closure,
    // and visits, core groups and supervision between them.
    const int filler = Filler(children + 2);
    const int length = Length(100, filler);
    const absl::CivilDay first = AddWorkingDays(icpc, 10);
    const absl::CivilDay last = start_ + (length - 10);
    Fill(first, last, filler, v1::VISIT_TYPE_CHILD_PROTECTION,
         /*meetings=*/true);
    AuthoriseAssessments(Weekday(start_ + std::min(40, length - 20)),
                         v1::ASSESSMENT_OUTCOME_CHILD_IN_NEED_PLAN,
                         v1::STATUTORY_BASIS_CA1989_S47);
    const absl::CivilDay rcpc = Weekday(start_ + (length - 7));
    {
      v1::CaseEvent& e = Add(At(rcpc, 10, 0), Lag(), *chair_);
      v1::ConferenceHeld* c = e.mutable_conference_held();
      Decide(c->mutable_decision(), *chair_,
             "The plan's outcomes are met and the family has sustained the "
             "changes; the plans can end with support from early help.");
      c->set_conference_id(absl::StrCat("RCPC-", case_id_));
      c->set_conference_type(v1::CONFERENCE_TYPE_RCPC);
      c->set_quorate(true);
      for (int k = 0; k < children; ++k) {
        v1::ChildPlanDecision* d = c->add_child_decisions();
        d->set_child_id(child_ids_[k]);
        d->set_plan_decision(v1::CONFERENCE_PLAN_DECISION_PLAN_ENDED);
      }
    }
    Close(Weekday(start_ + length), v1::CASE_CLOSURE_REASON_RC7_SERVICES_CEASED,
          *manager_);
  }

  void Assessment() {
    const int children = static_cast<int>(family_.children.size());
    const absl::Time t = opened_at_ + absl::Minutes(60);
    Allocate(t);
    StartAssessments(t + absl::Minutes(5));
    int budget = 1;
    Visit(AddWorkingDays(start_, 2), v1::VISIT_TYPE_ASSESSMENT, &budget);
    Correction(AddWorkingDays(start_, 6));
    const int filler = Filler(children + 1);
    const int length = Length(60, filler);
    Fill(AddWorkingDays(start_, 7), start_ + (length - 10), filler,
         v1::VISIT_TYPE_ASSESSMENT, /*meetings=*/false);
    const bool nfa = rng_.OneIn(2);
    AuthoriseAssessments(Weekday(start_ + std::min(45, length - 2)),
                         nfa ? v1::ASSESSMENT_OUTCOME_NO_FURTHER_ACTION
                             : v1::ASSESSMENT_OUTCOME_EARLY_HELP,
                         v1::STATUTORY_BASIS_CA1989_S17);
    Close(Weekday(start_ + length),
          nfa ? v1::CASE_CLOSURE_REASON_RC8_NO_FURTHER_ACTION
              : v1::CASE_CLOSURE_REASON_RC9_EARLY_HELP,
          *manager_);
  }

  void Channel() {
    const std::string prevent_id = absl::StrCat("PRV-", case_id_);
    const std::string channel_id = absl::StrCat("CH-", case_id_);
    {
      v1::CaseEvent& e =
          Add(opened_at_ - absl::Minutes(30), Lag(), kCoordinator,
              v1::Source::PROVENANCE_REPORTED, referral_->agency);
      v1::PreventReferralMade* p = e.mutable_prevent_referral_made();
      p->set_prevent_referral_id(prevent_id);
      p->mutable_referrer()->set_name("Simon Hale");
      p->mutable_referrer()->set_role("Designated Safeguarding Lead");
      p->mutable_referrer()->set_agency(referral_->agency);
      p->set_concerns(
          "Sharing extreme right-wing memes; comment in class "
          "about a coming 'race war'; web-filter alerts.");
      p->set_how_identified("Pupils showed the form tutor screenshots.");
      p->add_agencies_involved(referral_->agency);
      p->set_parents_informed(true);
    }
    const absl::CivilDay gateway = AddWorkingDays(start_, 4);
    {
      v1::CaseEvent& e = Add(At(gateway, 11, 0), Lag(), kGatewayOfficer);
      v1::PoliceGatewayAssessed* g = e.mutable_police_gateway_assessed();
      Decide(g->mutable_decision(), kGatewayOfficer,
             "No criminal record and no sign of attack planning, so not "
             "police-led; the material shared and time spent in the spaces "
             "where it circulates show vulnerability that Channel can "
             "address.");
      g->set_prevent_referral_id(prevent_id);
      g->set_framework("Prevent gateway assessment (2023)");
      g->set_outcome(v1::GATEWAY_OUTCOME_TO_CHANNEL);
    }
    {
      v1::CaseEvent& e =
          Add(At(AddWorkingDays(gateway, 1), 9, 30), Lag(), kCoordinator);
      v1::ChannelReferralReceived* r = e.mutable_channel_referral_received();
      r->set_channel_case_id(channel_id);
      r->set_prevent_referral_id(prevent_id);
      r->set_referred_by(v1::CHANNEL_REFERRER_POLICE);
    }
    {
      v1::CaseEvent& e =
          Add(At(AddWorkingDays(gateway, 5), 12, 0), Lag(), kCoordinator);
      v1::VulnerabilityAssessed* va = e.mutable_vulnerability_assessed();
      va->set_channel_case_id(channel_id);
      va->set_framework("Channel Vulnerability Assessment Framework");
      va->set_framework_version("2021");
      va->mutable_engagement()->set_assessment("Moderate");
      va->mutable_engagement()->set_evidence(
          "Member of two channels where "
          "the material circulates.");
      va->mutable_intent()->set_assessment("Low");
      va->mutable_capability()->set_assessment("None identified");
    }
    std::string consent_id;
    const absl::CivilDay consent_day = AddWorkingDays(gateway, 8);
    {
      v1::CaseEvent& e = Add(At(consent_day, 16, 45), Lag(), kCoordinator);
      v1::ChannelConsentRecorded* c = e.mutable_channel_consent_recorded();
      c->set_channel_case_id(channel_id);
      c->set_giver(v1::CHANNEL_CONSENT_GIVER_PARENT_OR_GUARDIAN);
      c->set_giver_name(absl::StrCat(family_.mother.name, " (mother)"));
      *c->mutable_sought_by() = ParticipantOf(kCoordinator);
      *c->mutable_sought_at() = ToProtoTime(At(consent_day, 16, 0));
      c->set_how_sought(
          "In person at the family home, with the young "
          "person present; explained that Channel is "
          "voluntary.");
      c->set_status(v1::CONSENT_STATUS_GIVEN);
      c->set_child_view("Willing to meet a mentor.");
      consent_id = e.event_id();
    }
    const absl::CivilDay panel = AddWorkingDays(gateway, 15);
    {
      v1::CaseEvent& e = Add(At(panel, 10, 0), Lag(), kCoordinator);
      v1::ChannelPanelHeld* p = e.mutable_channel_panel_held();
      Decide(p->mutable_decision(), kPanelChair,
             "The panel agrees the young person is vulnerable to being drawn "
             "into terrorism, with low intent and no capability; consent is "
             "in place, so the case is adopted with mentoring.",
             "Counter-Terrorism and Security Act 2015 s36");
      p->set_channel_case_id(channel_id);
      *p->mutable_chair() = ParticipantOf(kPanelChair);
      *p->add_attendees() = ParticipantOf(kCoordinator);
      *p->add_attendees() = ParticipantOf(kGatewayOfficer);
      p->set_outcome(v1::PANEL_DECISION_ADOPT);
    }
    {
      v1::CaseEvent& e = Add(At(panel, 11, 30), Lag(), kCoordinator);
      v1::SupportPlanAgreed* s = e.mutable_support_plan_agreed();
      s->set_channel_case_id(channel_id);
      plan_id_ = absl::StrCat(channel_id, "-SP1");
      s->set_plan_id(plan_id_);
      s->set_consent_event_id(consent_id);
      v1::SupportElement* support = s->add_support();
      support->set_nature("Ideological mentoring");
      support->mutable_provider()->set_id("IP-0417");
      support->mutable_provider()->set_name("Intervention provider IP-0417");
      support->set_intervention_provider(true);
      support->set_timing("Weekly one-hour sessions for 12 weeks");
      *s->mutable_review_date() = ToDate(panel + 91);
    }
    Correction(AddWorkingDays(panel, 2));
    const int filler = Filler(2);
    const int length = Length(80, filler);
    absl::CivilDay day = AddWorkingDays(panel, 5);
    const int step = filler > 0 ? std::max(1, (length - 30) / filler) : 1;
    for (int i = 0; i < filler; ++i, day = Weekday(day + step)) {
      v1::CaseEvent& e = Add(At(day, 13, 0), Lag(), kCoordinator);
      v1::InterventionDelivered* d = e.mutable_intervention_delivered();
      d->set_channel_case_id(channel_id);
      d->set_plan_id(plan_id_);
      d->mutable_provider()->set_id("IP-0417");
      d->mutable_provider()->set_name("Intervention provider IP-0417");
      d->set_attended(!rng_.OneIn(8));
      d->set_summary(d->attended()
                         ? "Session held: talked about who makes the content "
                           "and why; more open by the end."
                         : "Did not attend; mentor rang home.");
    }
    const absl::CivilDay exit = Weekday(std::max(day, start_ + (length - 4)));
    {
      v1::CaseEvent& e = Add(At(exit, 9, 0), Lag(), kCoordinator);
      v1::ChannelExited* x = e.mutable_channel_exited();
      Decide(x->mutable_decision(), kPanelChair,
             "The risk has reduced so that Channel support is no longer "
             "needed: engagement low, intent none, and new friendships "
             "outside the online spaces.");
      x->set_channel_case_id(channel_id);
      x->set_reason("vulnerabilities addressed");
    }
    Close(AddWorkingDays(exit, 2), v1::CASE_CLOSURE_REASON_RC7_SERVICES_CEASED,
          kHeadOfService);
  }

  // `count` visits (and for a plan, core groups and supervision) spread
  // evenly from `first` to `last`.
  void Fill(absl::CivilDay first, absl::CivilDay last, int count,
            v1::VisitType visit_type, bool meetings) {
    if (count <= 0) return;
    const int span = std::max<int>(1, static_cast<int>(last - first));
    int budget = count;
    for (int i = 0; budget > 0; ++i) {
      const absl::CivilDay day =
          Weekday(first + static_cast<int>(static_cast<int64_t>(span) * i /
                                           std::max(1, count)));
      if (meetings && i % 6 == 3) {
        CoreGroup(day,
                  "Core group: progress against the plan reviewed; "
                  "actions updated.");
        --budget;
      } else if (meetings && i % 6 == 5) {
        Supervision(day);
        --budget;
      } else {
        Visit(day, visit_type, &budget);
      }
    }
  }

  // Recording order; the first target_events_ events.
  GeneratedCase Finish() {
    std::sort(planned_.begin(), planned_.end(),
              [](const Planned& a, const Planned& b) {
                return std::tie(a.recorded_at, a.order) <
                       std::tie(b.recorded_at, b.order);
              });
    if (planned_.size() > target_events_) planned_.resize(target_events_);
    GeneratedCase out;
    out.case_id = case_id_;
    out.child_ids = child_ids_;
    for (Planned& p : planned_) {
      // event_type names the payload's message.
      const google::protobuf::FieldDescriptor* payload =
          v1::CaseEvent::descriptor()->FindFieldByNumber(
              p.event.payload_case());
      p.event.set_event_type(payload->message_type()->name());
      out.events.push_back(std::move(p.event));
      out.recorded_at.push_back(p.recorded_at);
    }
    return out;
  }

  Random rng_;
  const std::string case_id_;
  const size_t target_events_;
  Family family_;
  CaseKind kind_;
  absl::CivilDay start_;
  const Staff* worker_;
  const Staff* manager_;
  const Staff* chair_;
  const Referral* referral_;
  std::vector<std::string> child_ids_;

  // A deque, so that Add()'s references stay valid as it grows.
  std::deque<Planned> planned_;
  absl::Time opened_at_;
  std::string contact_id_;
  std::string father_event_id_;
  std::string strategy_id_;
  std::string enquiry_id_;
  std::string plan_id_;
  std::vector<std::string> basis_ids_;
  std::vector<std::string> assessment_ids_;
};

}  // namespace

std::vector<GeneratedCase> GenerateCaseEvents(uint64_t seed, size_t cases,
                                              size_t events_per_case) {
  std::vector<GeneratedCase> out;
  out.reserve(cases);
  for (size_t i = 0; i < cases; ++i) {
    out.push_back(CaseWriter(seed, i, events_per_case).Write());
  }
  return out;
}

std::vector<TimedAppend> InterleaveCases(
    const std::vector<GeneratedCase>& cases, size_t max_events_per_append) {
  // Events of one case recorded this close together are one sitting, and
  // one append.
  constexpr absl::Duration kSitting = absl::Minutes(30);
  struct Ref {
    absl::Time recorded_at;
    size_t case_index;
    size_t event_index;
  };
  std::vector<Ref> order;
  for (size_t c = 0; c < cases.size(); ++c) {
    for (size_t e = 0; e < cases[c].events.size(); ++e) {
      order.push_back({cases[c].recorded_at[e], c, e});
    }
  }
  std::sort(order.begin(), order.end(), [](const Ref& a, const Ref& b) {
    return std::tie(a.recorded_at, a.case_index, a.event_index) <
           std::tie(b.recorded_at, b.case_index, b.event_index);
  });
  max_events_per_append = std::max<size_t>(1, max_events_per_append);
  std::vector<TimedAppend> appends;
  for (size_t i = 0; i < order.size();) {
    const GeneratedCase& c = cases[order[i].case_index];
    TimedAppend& append = appends.emplace_back();
    append.request.stream_id = c.case_id;
    append.request.expected = eventstore::ExpectedVersion::Any();
    for (size_t j = i;
         j < order.size() && order[j].case_index == order[i].case_index &&
         order[j].recorded_at - order[i].recorded_at <= kSitting &&
         j - i < max_events_per_append;
         ++j) {
      const v1::CaseEvent& event = c.events[order[j].event_index];
      append.request.events.push_back(
          {event.event_id(), SerializeDeterministically(event)});
      append.recorded_at = order[j].recorded_at;
    }
    i += append.request.events.size();
  }
  return appends;
}

absl::Status AppendTimed(eventstore::EventStore* store, ManualClock* clock,
                         absl::Span<const TimedAppend> appends) {
  for (const TimedAppend& append : appends) {
    clock->Set(append.recorded_at);
    absl::StatusOr<eventstore::AppendResult> result =
        store->Append(append.request);
    if (!result.ok()) return result.status();
  }
  return absl::OkStatus();
}

size_t CountEvents(const std::vector<GeneratedCase>& cases) {
  size_t n = 0;
  for (const GeneratedCase& c : cases) n += c.events.size();
  return n;
}

}  // namespace casetrail::testing
