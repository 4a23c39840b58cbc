#include "services/unparseable_request.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/support/interceptor.h"

namespace casetrail::services {
namespace {

using grpc::experimental::InterceptionHookPoints;

// One call's: remembers that its request did not parse, and says so in place
// of the handler's UNIMPLEMENTED.
class UnparseableRequestInterceptor final
    : public grpc::experimental::Interceptor {
 public:
  explicit UnparseableRequestInterceptor(std::string request_type)
      : request_type_(std::move(request_type)) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    // The handler parses the request before the interceptors run; a request
    // that did not parse reaches them as no message.
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparseable_ = true;
    }
    if (unparseable_ &&
        methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() ==
            grpc::StatusCode::UNIMPLEMENTED) {
      methods->ModifySendStatus(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("the request is not a ", request_type_,
                       ": its bytes do not parse as that message")));
    }
    methods->Proceed();
  }

 private:
  const std::string request_type_;
  // Touched only by the call's batches, which gRPC runs one at a time
  // through the interceptors.
  bool unparseable_ = false;
};

}  // namespace

grpc::experimental::Interceptor*
UnparseableRequestInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  using Type = grpc::experimental::ServerRpcInfo::Type;
  if (info->type() != Type::UNARY && info->type() != Type::SERVER_STREAMING) {
    return nullptr;
  }
  // "/casetrail.v1.CaseLog/AppendEvents" is casetrail.v1.CaseLog.AppendEvents.
  absl::string_view path = info->method();
  if (path.empty() || path[0] != '/') return nullptr;
  const google::protobuf::MethodDescriptor* method =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          absl::StrReplaceAll(path.substr(1), {{"/", "."}}));
  if (method == nullptr) return nullptr;
  return new UnparseableRequestInterceptor(method->input_type()->full_name());
}

}  // namespace casetrail::services
