// Server reflection on the real casetraild, asked the way grpcurl asks: list
// the services, then fetch the file that declares one and check it describes
// the RPCs.

#include <memory>
#include <set>
#include <string>

#include "google/protobuf/descriptor.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/testing/server_process.h"

namespace casetrail {
namespace {

using grpc::reflection::v1alpha::ServerReflection;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

TEST(ReflectionTest, ListsServicesAndDescribesCaseLog) {
  testing::TempDir dir;
  auto server = testing::ServerProcess::Start(dir.path());
  ASSERT_TRUE(server.ok()) << server.status();
  {  // the client goes away before the server is stopped
    auto stub = ServerReflection::NewStub(grpc::CreateChannel(
        (*server)->address(), grpc::InsecureChannelCredentials()));

    grpc::ClientContext context;
    auto stream = stub->ServerReflectionInfo(&context);
    ServerReflectionRequest list;
    list.set_list_services("");
    ASSERT_TRUE(stream->Write(list));
    ServerReflectionResponse listed;
    ASSERT_TRUE(stream->Read(&listed));
    std::set<std::string> services;
    for (const auto& s : listed.list_services_response().service()) {
      services.insert(s.name());
    }
    EXPECT_TRUE(services.count("casetrail.v1.CaseLog"));
    EXPECT_TRUE(services.count("grpc.health.v1.Health"));

    ServerReflectionRequest symbol;
    symbol.set_file_containing_symbol("casetrail.v1.CaseLog");
    ASSERT_TRUE(stream->Write(symbol));
    ServerReflectionResponse described;
    ASSERT_TRUE(stream->Read(&described));
    ASSERT_TRUE(described.has_file_descriptor_response())
        << described.error_response().error_message();
    std::set<std::string> methods;
    for (const std::string& bytes :
         described.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(bytes));
      for (const auto& service : file.service()) {
        if (service.name() != "CaseLog") continue;
        for (const auto& method : service.method())
          methods.insert(method.name());
      }
    }
    for (const char* rpc :
         {"AppendEvents", "AppendEventsStream", "ReadCaseStream", "ReadLog",
          "Subscribe", "GetLogInfo"}) {
      EXPECT_TRUE(methods.count(rpc)) << rpc;
    }
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
  EXPECT_EQ((*server)->Stop(), 0);
}

}  // namespace
}  // namespace casetrail
