// GetOracleRequest and WatchOracleRequests: a request read back, and requests followed to their
// outcomes as they finish.
#include <algorithm>
#include <utility>

#include "services/oracle/oracle_internal.h"
#include "services/oracle/oracle_service.h"

namespace neosl::services {

using oracle_internal::CallerAccount;

grpc::ServerUnaryReactor* OracleService::GetOracleRequest(grpc::CallbackServerContext* ctx,
                                                          const oraclepb::GetOracleRequestRequest* request,
                                                          oraclepb::OracleRequest* response) {
  return pipeline_.Unary(ctx, kIdentity, "GetOracleRequest", [&](const mesh::CallContext& call) -> Status {
    ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
    if (!OracleRequestId::IsWellFormed(request->id())) {
      return FieldViolationError("id", "id must look like orc_ followed by 20 characters");
    }
    ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT body FROM oracle_requests WHERE id = ? AND account_id = ?",
                                             {request->id(), account.str()}));
    if (rows.empty()) {
      return NotFoundError("no oracle request " + request->id())
          .WithDetail(ErrorDetail{"ResourceInfo", {}}
                          .Add("resource_type", "oracle request")
                          .Add("resource_name", request->id()));
    }
    ASSIGN_OR_RETURN(store::Blob body, rows[0].Bytes(0));
    if (!response->ParseFromArray(body.data(), int(body.size()))) {
      return DataLossError("the stored oracle request is corrupt");
    }
    return Status();
  });
}

grpc::ServerWriteReactor<oraclepb::OracleRequest>* OracleService::WatchOracleRequests(
    grpc::CallbackServerContext* ctx, const oraclepb::WatchOracleRequestsRequest* request) {
  return pipeline_.ServerStream<oraclepb::OracleRequest>(
      ctx, kIdentity, "WatchOracleRequests",
      [this, request_id = request->request_id(),
       service = request->service()](const std::shared_ptr<mesh::StreamWriter>& writer) {
        auto account = CallerAccount(writer->call());
        if (!account.ok()) return writer->Finish(account.status());
        if (!service.empty() && service != kIdentity) {
          return writer->Finish(FieldViolationError("service", "service must be \"oracle\""));
        }
        if (!request_id.empty() && !OracleRequestId::IsWellFormed(request_id)) {
          return writer->Finish(
              FieldViolationError("request_id", "request_id must look like orc_ followed by 20 characters"));
        }
        std::lock_guard lock(watchers_mu_);
        std::erase_if(watchers_, [](const Watcher& w) { return w.writer->done(); });
        watchers_.push_back(Watcher{account->str(), request_id, writer});
      });
}

void OracleService::Publish(const std::string& account, const oraclepb::OracleRequest& done) {
  std::lock_guard lock(watchers_mu_);
  std::erase_if(watchers_, [](const Watcher& w) { return w.writer->done(); });
  for (const Watcher& w : watchers_) {
    if (w.account != account) continue;
    if (!w.request_id.empty() && w.request_id != done.request_id()) continue;
    w.writer->Write(done);
    if (!w.request_id.empty()) w.writer->Finish(Status());  // watched one request: it is done
  }
}

}  // namespace neosl::services
