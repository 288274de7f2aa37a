// The oracle_run and oracle_finalize ECALLs' work (services/oracle/oracle_run.h) against real
// loopback servers through a real SocketRelay and Fetcher: what is signed, that a contract can
// read it with StdLib.deserialize (decoded here with the devchain's own deserializer), and that
// post-processing refuses anything the enclave did not make or check itself.
#include "services/oracle/oracle_run.h"

#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/random.h"
#include "crypto/hash.h"
#include "devchain/app_engine.h"
#include "runtime/runner.h"
#include "services/oracle/oracle_record.h"
#include "services/oracle/source_fetch.h"
#include "tee/socket_relay.h"
#include "unit/net/test_server.h"

namespace neosl::oracle {
namespace {

namespace json = boost::json;
namespace v1 = tee::v1;
using net::testing::ReceivedRequest;
using net::testing::Respond;
using net::testing::TestServer;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

bool Verifies(const crypto::PublicKey& key, const std::string& message, const std::string& signature) {
  if (signature.size() != 64) return false;
  crypto::Signature sig{};
  std::copy(signature.begin(), signature.end(), sig.begin());
  return key.Verify(Bytes(message), sig);
}

// The items of a StdLib-serialized Array, as the devchain's JSON for stack items.
json::array Items(const std::string& serialized) {
  auto item = devchain::DeserializeStackItem(Bytes(serialized));
  EXPECT_TRUE(item.ok()) << item.status().ToString();
  if (!item.ok()) return {};
  json::value v = devchain::StackItemToJson(*item);
  EXPECT_EQ(v.at("type").as_string(), "Array");
  return v.at("value").as_array();
}

std::string Base64Text(const json::value& item) {
  auto bytes = Base64Decode(std::string(item.at("value").as_string()));
  EXPECT_TRUE(bytes.has_value());
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

class OracleRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto relay = tee::SocketRelay::Create({.allow_private = {"127.0.0.1/32"}});
    ASSERT_TRUE(relay.ok());
    relay_ = std::move(*relay);
    auto fetcher = net::Fetcher::Create(OracleFetcherOptions(), *relay_);
    ASSERT_TRUE(fetcher.ok());
    fetcher_ = std::move(*fetcher);
  }

  v1::OracleRunRequest Request(const std::string& url, const std::string& filter) {
    v1::OracleRunRequest r;
    r.set_request_id("orc_aaaaaaaaaaaaaaaaaaaa");
    auto* s = r.add_sources();
    s->set_url(url);
    s->set_filter(filter);
    r.set_allow_http(true);
    r.set_timeout_ms(2000);
    return r;
  }

  StatusOr<v1::OracleRunResponse> Run(const v1::OracleRunRequest& r) {
    return RunOracle(r, RunEnvironment{fetcher_.get(), &key_, nullptr});
  }

  // What a function worker would answer for `args_json` → `output`, signed by `by`.
  v1::FunctionProof Proof(const std::string& args_json, const std::string& output, bool succeeded,
                          const crypto::PrivateKey& by) {
    v1::FunctionProof p;
    p.set_function_id("fn_bbbbbbbbbbbbbbbbbbbb");
    p.set_version(3);
    std::array<uint8_t, 32> source_hash{};
    source_hash.fill(0x5a);
    p.set_source_hash(std::string(source_hash.begin(), source_hash.end()));
    p.set_args_json(args_json);
    p.set_succeeded(succeeded);
    p.set_output_json(output);
    const auto message = runtime::ResultSigningMessage(p.function_id(), p.version(), source_hash,
                                                       crypto::Sha256(Bytes(args_json)), crypto::Sha256(Bytes(output)));
    const auto sig = by.Sign(message);
    p.set_signature(std::string(sig.begin(), sig.end()));
    return p;
  }

  v1::OracleFinalizeRequest Finalize(const v1::OracleRunRequest& run, const v1::OracleRunResponse& fetched,
                                     v1::FunctionProof proof) {
    v1::OracleFinalizeRequest f;
    *f.mutable_request() = run;
    f.set_code(fetched.code());
    f.set_result(fetched.result());
    f.set_signature(fetched.signature());
    *f.mutable_function() = std::move(proof);
    return f;
  }

  crypto::PrivateKey key_ = crypto::PrivateKey::Generate(SecureRandom::Instance());
  std::unique_ptr<tee::SocketRelay> relay_;
  std::unique_ptr<net::Fetcher> fetcher_;
  TestServer source_{[](const ReceivedRequest&) {
    return Respond(200, "OK", R"({"p":{"usd":4.5,"name":"GAS"}})", {{"Content-Type", "application/json"}});
  }};
};

TEST_F(OracleRunTest, TheRecordIsSignedAndReadsAsAStdLibArray) {
  const v1::OracleRunRequest r = Request(source_.Url("/gas"), "$.p.usd");
  auto out = Run(r);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->code(), uint32_t(ResponseCode::kSuccess));
  EXPECT_EQ(out->result(), "[4.5]");
  ASSERT_EQ(out->sources_size(), 1);
  EXPECT_TRUE(out->sources(0).agreed());
  EXPECT_EQ(out->sources(0).result_hash(), [] {
    const auto h = crypto::Sha256(Bytes("[4.5]"));
    return std::string(h.begin(), h.end());
  }());
  EXPECT_TRUE(Verifies(key_.public_key(), out->record(), out->signature()));

  const json::array items = Items(out->record());
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(Base64Text(items[0]), "neosl-oracle-v1");
  EXPECT_EQ(Base64Text(items[1]), "orc_aaaaaaaaaaaaaaaaaaaa");
  const json::array& sources = items[2].at("value").as_array();
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(Base64Text(sources[0].at("value").as_array()[0]), source_.Url("/gas"));
  EXPECT_EQ(Base64Text(sources[0].at("value").as_array()[1]), "$.p.usd");
  EXPECT_EQ(Base64Text(items[3].at("value").as_array()[0]), "all-equal");
  EXPECT_EQ(items[4].at("value").as_string(), "0");
  const auto hash = crypto::Sha256(Bytes("[4.5]"));
  EXPECT_EQ(Base64Text(items[5]), std::string(hash.begin(), hash.end()));
}

TEST_F(OracleRunTest, AChainRequestAlsoGetsItsCallbackResultSigned) {
  v1::OracleRunRequest r = Request(source_.Url("/gas"), "$.p.name");
  const std::string contract(20, '\x42');
  r.mutable_chain()->set_contract(contract);
  r.mutable_chain()->set_request_id("170141183460469231731687303715884105727");
  auto out = Run(r);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(Verifies(key_.public_key(), out->chain_result(), out->chain_signature()));
  const json::array items = Items(out->chain_result());
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(Base64Text(items[0]), contract);
  EXPECT_EQ(items[1].at("value").as_string(), "170141183460469231731687303715884105727");
  EXPECT_EQ(items[2].at("value").as_string(), "0");
  EXPECT_EQ(Base64Text(items[3]), "[\"GAS\"]");

  r.mutable_chain()->set_request_id("not a number");
  EXPECT_EQ(Run(r).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OracleRunTest, MalformedRequestsAreErrorsNotOutcomes) {
  v1::OracleRunRequest none = Request(source_.Url("/"), "");
  none.clear_sources();
  EXPECT_EQ(Run(none).status().code(), StatusCode::kInvalidArgument);
  v1::OracleRunRequest many = Request(source_.Url("/"), "");
  for (int i = 0; i < int(kMaxSources); ++i) *many.add_sources() = many.sources(0);
  EXPECT_EQ(Run(many).status().code(), StatusCode::kInvalidArgument);
  v1::OracleRunRequest rule = Request(source_.Url("/"), "");
  rule.set_rule("mode");
  EXPECT_EQ(Run(rule).status().code(), StatusCode::kInvalidArgument);
  v1::OracleRunRequest m = Request(source_.Url("/"), "");
  m.set_rule("m-of-n");
  m.set_m(2);
  EXPECT_EQ(Run(m).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OracleRunTest, ASchemeNotFetchedIsProtocolNotSupportedAsInNeo) {
  v1::OracleRunRequest https_only = Request(source_.Url("/"), "");
  https_only.set_allow_http(false);
  auto out = Run(https_only);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->code(), uint32_t(ResponseCode::kProtocolNotSupported));
  EXPECT_TRUE(source_.requests().empty());
  auto ftp = Run(Request("ftp://example.com/x", ""));
  ASSERT_TRUE(ftp.ok()) << ftp.status().ToString();
  EXPECT_EQ(ftp->code(), uint32_t(ResponseCode::kProtocolNotSupported));
  EXPECT_TRUE(Verifies(key_.public_key(), ftp->record(), ftp->signature()));
}

TEST_F(OracleRunTest, APostProcessedResultIsSignedWithTheFunctionNamed) {
  const v1::OracleRunRequest r = Request(source_.Url("/gas"), "$.p.usd");
  auto fetched = Run(r);
  ASSERT_TRUE(fetched.ok());
  const std::string args = FunctionArgs(r.request_id(), fetched->result());
  EXPECT_EQ(args, R"({"request_id":"orc_aaaaaaaaaaaaaaaaaaaa","result":[4.5]})");
  auto out = FinalizeOracle(Finalize(r, *fetched, Proof(args, "450", true, key_)), key_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->code(), uint32_t(ResponseCode::kSuccess));
  EXPECT_EQ(out->result(), "450");
  EXPECT_TRUE(Verifies(key_.public_key(), out->record(), out->signature()));
  const json::array items = Items(out->record());
  ASSERT_EQ(items.size(), 7u);
  const json::array& function = items[6].at("value").as_array();
  EXPECT_EQ(Base64Text(function[0]), "fn_bbbbbbbbbbbbbbbbbbbb");
  EXPECT_EQ(function[1].at("value").as_string(), "3");
  const auto fetched_hash = crypto::Sha256(Bytes("[4.5]"));
  EXPECT_EQ(Base64Text(function[3]), std::string(fetched_hash.begin(), fetched_hash.end()));

  // A function that failed: Error, signed, with its error.
  auto failed = FinalizeOracle(Finalize(r, *fetched, Proof(args, R"({"code":"UNKNOWN"})", false, key_)), key_);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->code(), uint32_t(ResponseCode::kError));
  EXPECT_EQ(failed->result(), "");
  EXPECT_TRUE(Verifies(key_.public_key(), failed->record(), failed->signature()));

  // An output over the request's limit.
  v1::OracleRunRequest small = r;
  small.set_max_result_bytes(8);
  auto small_fetched = Run(small);
  ASSERT_TRUE(small_fetched.ok());
  auto big = FinalizeOracle(Finalize(small, *small_fetched, Proof(args, std::string(9, '1'), true, key_)), key_);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->code(), uint32_t(ResponseCode::kResponseTooLarge));
}

TEST_F(OracleRunTest, PostProcessingRefusesWhatTheEnclaveDidNotMakeOrCheck) {
  const v1::OracleRunRequest r = Request(source_.Url("/gas"), "$.p.usd");
  auto fetched = Run(r);
  ASSERT_TRUE(fetched.ok());
  const std::string args = FunctionArgs(r.request_id(), fetched->result());

  // A fetched result the host changed.
  v1::OracleRunResponse changed = *fetched;
  changed.set_result("[9000]");
  EXPECT_EQ(FinalizeOracle(Finalize(r, changed, Proof(FunctionArgs(r.request_id(), "[9000]"), "1", true, key_)), key_)
                .status()
                .code(),
            StatusCode::kPermissionDenied);
  // The same result moved to another request.
  v1::OracleRunRequest other = r;
  other.set_request_id("orc_cccccccccccccccccccc");
  EXPECT_EQ(
      FinalizeOracle(
          Finalize(other, *fetched, Proof(FunctionArgs(other.request_id(), fetched->result()), "1", true, key_)), key_)
          .status()
          .code(),
      StatusCode::kPermissionDenied);
  // A function given something else.
  EXPECT_EQ(FinalizeOracle(Finalize(r, *fetched, Proof(R"({"result":[1]})", "1", true, key_)), key_).status().code(),
            StatusCode::kPermissionDenied);
  // A proof by another key, or an output that is not the one proved.
  const crypto::PrivateKey stranger = crypto::PrivateKey::Generate(SecureRandom::Instance());
  EXPECT_EQ(FinalizeOracle(Finalize(r, *fetched, Proof(args, "1", true, stranger)), key_).status().code(),
            StatusCode::kPermissionDenied);
  v1::OracleFinalizeRequest swapped = Finalize(r, *fetched, Proof(args, "1", true, key_));
  swapped.mutable_function()->set_output_json("2");
  EXPECT_EQ(FinalizeOracle(swapped, key_).status().code(), StatusCode::kPermissionDenied);
  // Only a successful result is post-processed.
  v1::OracleFinalizeRequest unsuccessful = Finalize(r, *fetched, Proof(args, "1", true, key_));
  unsuccessful.set_code(uint32_t(ResponseCode::kNotFound));
  EXPECT_EQ(FinalizeOracle(unsuccessful, key_).status().code(), StatusCode::kFailedPrecondition);
}

TEST(FunctionArgsTest, EmbedsJsonAsJsonAndTextAsAString) {
  EXPECT_EQ(FunctionArgs("orc_x", R"(["a",1])"), R"({"request_id":"orc_x","result":["a",1]})");
  EXPECT_EQ(FunctionArgs("orc_x", "plain text"), R"({"request_id":"orc_x","result":"plain text"})");
  EXPECT_EQ(FunctionArgs("orc_x", ""), R"({"request_id":"orc_x","result":""})");
}

}  // namespace
}  // namespace neosl::oracle
