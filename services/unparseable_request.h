#ifndef CASETRAIL_SERVICES_UNPARSEABLE_REQUEST_H_
#define CASETRAIL_SERVICES_UNPARSEABLE_REQUEST_H_

// gRPC's callback handlers answer a unary or server-streaming request whose
// bytes do not parse as the method's request message with UNIMPLEMENTED and no
// message, as if the method did not exist. This server interceptor turns that
// answer into INVALID_ARGUMENT naming the request type, for every such method
// of every service, without a change to the services: it sees the request
// message come back empty from parsing (POST_RECV_MESSAGE) and rewrites the
// status the handler then sends (PRE_SEND_STATUS).
//
// Raw methods (ReadCaseStream, ReadLog) parse the request themselves and say
// so; AppendEventsStream answers each unparseable request in place
// (append_stream_reactor.h). Neither reaches this interceptor's rewrite.

#include <memory>

#include "grpcpp/support/server_interceptor.h"

namespace casetrail::services {

// Creates the interceptor for each unary and server-streaming call of a
// method in the generated descriptor pool; none for other calls. Thread-safe.
class UnparseableRequestInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace casetrail::services

#endif  // CASETRAIL_SERVICES_UNPARSEABLE_REQUEST_H_
