#include "services/integrity_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eventstore/stored_event.h"
#include "eventstore/stream_ids.h"
#include "projections/reader_view.h"
#include "services/grpc_status.h"

namespace casetrail::services {
namespace {

using eventstore::MerkleHash;

std::string Bytes(const MerkleHash& hash) {
  return std::string(reinterpret_cast<const char*>(hash.data()), hash.size());
}

void AddHashes(const std::vector<MerkleHash>& hashes,
               google::protobuf::RepeatedPtrField<std::string>* out) {
  out->Reserve(hashes.size());
  for (const MerkleHash& h : hashes) out->Add(Bytes(h));
}

}  // namespace

grpc::ServerUnaryReactor* IntegrityService::GetCheckpoint(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetCheckpointRequest* request,
    casetrail::v1::GetCheckpointResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::StatusOr<CallSecurity> call = security_->Authorize(
          *context, "/casetrail.v1.LogIntegrity/GetCheckpoint", /*read=*/false,
          {});
      !call.ok()) {
    reactor->Finish(ToGrpcStatus(call.status()));
    return reactor;
  }
  if (request->has_tree_size() && request->issue()) {
    reactor->Finish(BadRequestStatus(
        {{"issue",
          "a new checkpoint is always at the log's current size; leave "
          "tree_size unset to issue one"}}));
    return reactor;
  }
  // Issuing signs and writes a checkpoint, synced: not on a callback thread.
  reads_->Schedule([this, reactor, request, response] {
    absl::StatusOr<eventstore::IssuedCheckpoint> issued =
        request->has_tree_size() ? checkpointer_->AtSize(request->tree_size())
        : request->issue()       ? checkpointer_->Issue()
                                 : checkpointer_->Latest();
    if (!issued.ok()) {
      reactor->Finish(ToGrpcStatus(issued.status()));
      return;
    }
    casetrail::v1::Checkpoint* checkpoint = response->mutable_checkpoint();
    checkpoint->set_tree_size(issued->checkpoint.tree_size);
    checkpoint->set_root_hash(Bytes(issued->checkpoint.root));
    *checkpoint->mutable_issued_at() =
        eventstore::ToProtoTime(issued->checkpoint.issued_at);
    checkpoint->set_signed_note(issued->note);
    response->set_verifier_key(checkpointer_->verifier().verifier_key());
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* IntegrityService::GetInclusionProof(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetInclusionProofRequest* request,
    casetrail::v1::GetInclusionProofResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (request->tree_size() <= request->position()) {
    reactor->Finish(BadRequestStatus(
        {{"tree_size",
          absl::StrCat("must be greater than the position (",
                       request->position(), "): a tree of ",
                       request->tree_size(), " events does not hold it")}}));
    return reactor;
  }
  // The response holds the event itself: a read of case data.
  casetrail::v1::AccessRecorded asked;
  asked.set_request_summary(absl::StrCat("inclusion proof of position ",
                                         request->position(), " in tree size ",
                                         request->tree_size()));
  reads_->Run(
      *context, "/casetrail.v1.LogIntegrity/GetInclusionProof",
      std::move(asked),
      [this, request, response](const CallSecurity& call,
                                casetrail::v1::AccessRecorded& access) {
        return Prove(call, *request, response, access);
      },
      [reactor](absl::Status status) {
        reactor->Finish(ToGrpcStatus(status));
      });
  return reactor;
}

ReadOutcome IntegrityService::Prove(
    const CallSecurity& call,
    const casetrail::v1::GetInclusionProofRequest& request,
    casetrail::v1::GetInclusionProofResponse* response,
    casetrail::v1::AccessRecorded& access) const {
  absl::StatusOr<std::vector<MerkleHash>> proof =
      store_->InclusionProof(request.position(), request.tree_size());
  absl::StatusOr<std::string> event =
      proof.ok() ? store_->ReadEvent(request.position()) : proof.status();
  if (!event.ok()) return ReadOutcome::NotRecorded(event.status());
  if (call.enabled) {
    casetrail::v1::RecordedEvent recorded;
    if (!recorded.ParseFromString(*event)) {
      return ReadOutcome::NotRecorded(
          absl::DataLossError("a stored event could not be decoded"));
    }
    const std::string& stream = recorded.event().stream_id();
    // The caller is told only that they may not prove this position: whose
    // event it is, and why not, go to the audit alone (and another tenant's
    // stream id not even there).
    const std::string told = absl::StrCat("position ", request.position(),
                                          " is not one you may prove");
    if (absl::Status scope = security_->policy()->CheckProofScope(
            call.principal, stream, absl::Now());
        !scope.ok()) {
      return ReadOutcome::Refused(std::string(scope.message()), told);
    }
    if (!eventstore::IsReservedStream(stream)) {
      access.set_case_id(stream);
      absl::StatusOr<security::CaseDecision> decision =
          security_->DecideCase(call, stream);
      if (!decision.ok()) {
        return ReadOutcome::NotRecorded(
            absl::Status(decision.status().code(),
                         absl::StrCat("position ", request.position(),
                                      " cannot be proved now; retry shortly")));
      }
      AddFlags(decision->flags, &access);
      if (!decision->allowed) {
        return ReadOutcome::Refused(std::move(decision->refusal), told);
      }
      if (projections::ReaderView(std::move(decision->hidden_events))
              .Withholds(recorded.event())) {
        return ReadOutcome::Refused(
            "the event is restricted to the people and roles named", told);
      }
      access.add_cases_returned(stream);
    }
    access.set_items_returned(1);
    access.set_response_summary(
        absl::StrCat("event ", recorded.event().event_id(), " (",
                     recorded.event().event_type(), ") with ", proof->size(),
                     " proof hashes"));
  }
  response->set_position(request.position());
  response->set_tree_size(request.tree_size());
  response->set_event(*std::move(event));
  AddHashes(*proof, response->mutable_hashes());
  return ReadOutcome::Answered();
}

grpc::ServerUnaryReactor* IntegrityService::GetConsistencyProof(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetConsistencyProofRequest* request,
    casetrail::v1::GetConsistencyProofResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::StatusOr<CallSecurity> call = security_->Authorize(
          *context, "/casetrail.v1.LogIntegrity/GetConsistencyProof",
          /*read=*/false, {});
      !call.ok()) {
    reactor->Finish(ToGrpcStatus(call.status()));
    return reactor;
  }
  if (request->old_size() > request->new_size()) {
    reactor->Finish(BadRequestStatus(
        {{"old_size", absl::StrCat("must not exceed new_size (",
                                   request->new_size(), ")")}}));
    return reactor;
  }
  absl::StatusOr<std::vector<MerkleHash>> proof =
      store_->ConsistencyProof(request->old_size(), request->new_size());
  if (!proof.ok()) {
    reactor->Finish(ToGrpcStatus(proof.status()));
    return reactor;
  }
  response->set_old_size(request->old_size());
  response->set_new_size(request->new_size());
  AddHashes(*proof, response->mutable_hashes());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace casetrail::services
