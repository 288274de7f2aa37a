// Shared fixture: one real `neosl serve` per test on port 0 with a fresh data directory.
#pragma once

#include <memory>
#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "support/http_client.h"
#include "support/server_process.h"

namespace neosl::testing {

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    std::string error;
    server_ = ServerProcess::Start(std::move(options), &error);
    ASSERT_NE(server_, nullptr) << error;
    client_ = std::make_unique<HttpClient>(server_->address());
    admin_ = server_->admin_key();
    ASSERT_FALSE(admin_.empty());
  }

  // A request with the admin key and a JSON body.
  HttpResult Send(const std::string& method, const std::string& path, const std::string& body = "") {
    return client_->Request(method, path, body,
                            {{"authorization", "Bearer " + admin_}, {"content-type", "application/json"}});
  }
  static std::string Str(const boost::json::value& v, const char* field) {
    return std::string(v.at(field).as_string());
  }

  static boost::json::value Json(const HttpResult& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    EXPECT_FALSE(ec) << "not JSON: " << r.body;
    return v;
  }

  static std::string ErrorCode(const HttpResult& r) {
    auto v = Json(r);
    if (!v.is_object() || !v.as_object().contains("error")) return "(no error body: " + r.body + ")";
    return std::string(v.at("error").at("code").as_string());
  }

  // Creates an account (as admin) and returns its id.
  std::string CreateAccount(const std::string& name) {
    auto r = client_->Post("/v1/accounts", "{\"name\":\"" + name + "\"}", admin_);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(Json(r).at("id").as_string());
  }

  // Creates a key with `roles` (a JSON array) on `account`; returns {key id, token}.
  std::pair<std::string, std::string> CreateKey(const std::string& account, const std::string& roles,
                                                const std::string& as = "") {
    auto r = client_->Post("/v1/accounts/" + account + "/keys", "{\"name\":\"k\",\"roles\":" + roles + "}",
                           as.empty() ? admin_ : as);
    EXPECT_EQ(r.status, 201) << r.body;
    auto v = Json(r);
    return {std::string(v.at("id").as_string()), std::string(v.at("key").as_string())};
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
  std::string admin_;
};

}  // namespace neosl::testing
