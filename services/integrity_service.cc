#include "services/integrity_service.h"

#include "absl/strings/str_cat.h"
#include "eventstore/stored_event.h"
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
  if (request->has_tree_size() && request->issue()) {
    reactor->Finish(BadRequestStatus(
        {{"issue",
          "a new checkpoint is always at the log's current size; leave "
          "tree_size unset to issue one"}}));
    return reactor;
  }
  absl::StatusOr<eventstore::IssuedCheckpoint> issued =
      request->has_tree_size() ? checkpointer_->AtSize(request->tree_size())
      : request->issue()       ? checkpointer_->Issue()
                               : checkpointer_->Latest();
  if (!issued.ok()) {
    reactor->Finish(ToGrpcStatus(issued.status()));
    return reactor;
  }
  casetrail::v1::Checkpoint* checkpoint = response->mutable_checkpoint();
  checkpoint->set_tree_size(issued->checkpoint.tree_size);
  checkpoint->set_root_hash(Bytes(issued->checkpoint.root));
  *checkpoint->mutable_issued_at() =
      eventstore::ToProtoTime(issued->checkpoint.issued_at);
  checkpoint->set_signed_note(issued->note);
  response->set_verifier_key(checkpointer_->verifier().verifier_key());
  reactor->Finish(grpc::Status::OK);
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
  absl::StatusOr<std::vector<MerkleHash>> proof =
      store_->InclusionProof(request->position(), request->tree_size());
  absl::StatusOr<std::string> event =
      proof.ok() ? store_->ReadEvent(request->position()) : proof.status();
  if (!event.ok()) {
    reactor->Finish(ToGrpcStatus(event.status()));
    return reactor;
  }
  response->set_position(request->position());
  response->set_tree_size(request->tree_size());
  response->set_event(*std::move(event));
  AddHashes(*proof, response->mutable_hashes());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* IntegrityService::GetConsistencyProof(
    grpc::CallbackServerContext* context,
    const casetrail::v1::GetConsistencyProofRequest* request,
    casetrail::v1::GetConsistencyProofResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
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
