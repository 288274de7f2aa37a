// ServiceRequest parsing on hand-built notifications (every malformation the relay must ignore),
// the callback script, and the request store over real SQLite with the platform's migrations.
#include "chain_requests/request.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "chain_requests/request_store.h"
#include "core/encoding.h"
#include "neo/script_builder.h"
#include "neo/transaction.h"
#include "schema/migrations.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"
#include "support/test_store_open.h"

namespace neosl::chain_requests {
namespace {
namespace json = boost::json;

const neo::UInt160 kContract = *neo::UInt160::Parse("0x746adb4cfa2fa90e0f16f1d1049b201b4db209de");
const neo::UInt160 kRequester = *neo::UInt160::Parse("0x0102030405060708090a0b0c0d0e0f1011121314");
const neo::UInt256 kTx = *neo::UInt256::Parse("0x" + std::string(62, '0') + "ab");

json::value Int(std::string_view decimal) {
  return json::object{{"type", "Integer"}, {"value", decimal}};
}
json::value ByteString(std::span<const uint8_t> bytes, std::string_view type = "ByteString") {
  return json::object{{"type", type}, {"value", Base64Encode(bytes)}};
}
json::value Text(std::string_view s) {
  return ByteString(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

json::array ValidFields() {
  return {Int("7"), ByteString(kRequester.bytes()), Text("functions"), Text(R"({"function":"f_1"})"),
          Text("onServiceResponse")};
}

neo::NotificationEvent Event(json::array fields, std::string_view name = "ServiceRequest") {
  neo::NotificationEvent e;
  e.block_index = 42;
  e.container = kTx;
  e.index = 3;
  e.notification.contract = kContract;
  e.notification.event_name = std::string(name);
  e.notification.state = neo::RpcStackItem(json::object{{"type", "Array"}, {"value", std::move(fields)}});
  return e;
}

TEST(ChainRequestParseTest, ReadsTheDocumentedShape) {
  auto r = ParseServiceRequest(Event(ValidFields()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->key.contract, kContract);
  EXPECT_EQ(r->key.request_id.decimal(), "7");
  EXPECT_EQ(r->requester, kRequester);
  EXPECT_EQ(r->service, "functions");
  EXPECT_EQ(std::string(r->payload.begin(), r->payload.end()), R"({"function":"f_1"})");
  EXPECT_EQ(r->callback, "onServiceResponse");
  EXPECT_EQ(r->tx_hash, kTx);
  EXPECT_EQ(r->notification_index, 3u);
  EXPECT_EQ(r->block_index, 42u);
  EXPECT_EQ(r->key.ToString(), kContract.ToString() + "/7");
}

TEST(ChainRequestParseTest, AcceptsWideIdsBuffersAndEmptyPayloads) {
  json::array f = ValidFields();
  f[0] = Int("123456789012345678901234567890");  // past int64: NeoVM integers reach 256 bits
  f[3] = ByteString({}, "Buffer");
  auto r = ParseServiceRequest(Event(f));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->key.request_id.decimal(), "123456789012345678901234567890");
  EXPECT_TRUE(r->payload.empty());

  f[3] = ByteString(std::vector<uint8_t>(kMaxPayload, 'x'));
  f[2] = Text(std::string(kMaxServiceName, 's'));
  EXPECT_TRUE(ParseServiceRequest(Event(f)).ok());
}

struct Malformation {
  std::string name;
  std::function<void(json::array&)> apply;
  std::string expected;  // part of the message
};

TEST(ChainRequestParseTest, RejectsEveryMalformation) {
  const std::vector<uint8_t> invalid_utf8 = {'a', 0xC3, 0x28};
  const std::vector<Malformation> cases = {
      {"four fields", [](json::array& f) { f.pop_back(); }, "has 4 items"},
      {"six fields", [](json::array& f) { f.push_back(Int("1")); }, "has 6 items"},
      {"id as bytes", [](json::array& f) { f[0] = Text("7"); }, "requestId is not an Integer"},
      {"id past 256 bits", [](json::array& f) { f[0] = Int("1" + std::string(80, '0')); }, "range"},
      {"id not a number", [](json::array& f) { f[0] = Int("7x"); }, "requestId"},
      {"requester of 19 bytes", [](json::array& f) { f[1] = ByteString(std::vector<uint8_t>(19, 1)); }, "20-byte"},
      {"requester as Integer", [](json::array& f) { f[1] = Int("5"); }, "requester is Integer"},
      {"requester null",
       [](json::array& f) {
         f[1] = json::object{{"type", "Any"}};
       },
       "requester is Any"},
      {"service empty", [](json::array& f) { f[2] = Text(""); }, "service must be 1 to 64"},
      {"service too long", [](json::array& f) { f[2] = Text(std::string(65, 's')); }, "got 65"},
      {"service not UTF-8", [&](json::array& f) { f[2] = ByteString(invalid_utf8); }, "service is not UTF-8"},
      {"payload too large", [](json::array& f) { f[3] = ByteString(std::vector<uint8_t>(kMaxPayload + 1, 'x')); },
       "at most 4096"},
      {"payload as Integer", [](json::array& f) { f[3] = Int("1"); }, "payload is Integer"},
      {"payload not base64",
       [](json::array& f) {
         f[3] = json::object{{"type", "ByteString"}, {"value", "@@"}};
       },
       "payload"},
      {"callback empty", [](json::array& f) { f[4] = Text(""); }, "callback must be"},
      {"callback private", [](json::array& f) { f[4] = Text("_deploy"); }, "'_'"},
      {"callback not UTF-8", [&](json::array& f) { f[4] = ByteString(invalid_utf8); }, "callback is not UTF-8"},
  };
  for (const auto& c : cases) {
    json::array f = ValidFields();
    c.apply(f);
    auto r = ParseServiceRequest(Event(f));
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(r.status().message().find(c.expected), std::string_view::npos) << c.name << ": " << r.status().ToString();
  }
}

TEST(ChainRequestParseTest, RejectsOtherShapesOfState) {
  neo::NotificationEvent e = Event(ValidFields());
  e.notification.state = neo::RpcStackItem(Int("1"));
  EXPECT_EQ(ParseServiceRequest(e).status().code(), StatusCode::kInvalidArgument);
  e.notification.state = neo::RpcStackItem(json::value(nullptr));
  EXPECT_EQ(ParseServiceRequest(e).status().code(), StatusCode::kInvalidArgument);
  e.notification.state = neo::RpcStackItem(json::object{{"type", "Array"}, {"value", "not an array"}});
  EXPECT_EQ(ParseServiceRequest(e).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseServiceRequest(Event(ValidFields(), "ServiceResponse")).status().code(), StatusCode::kInvalidArgument);
}

TEST(ChainRequestUtf8Test, FollowsTheStrictDefinition) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("random"));
  EXPECT_TRUE(IsValidUtf8("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x8E\xB2"));  // é € 🎲
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));                                   // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));                               // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));                           // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));                                   // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));                                       // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST(ChainRequestCallbackTest, CallsTheCallbackWithTheFourArguments) {
  auto r = ParseServiceRequest(Event(ValidFields()));
  ASSERT_TRUE(r.ok());
  ChainAnswer a = ChainAnswer::Success({1, 2, 3}, {9});
  neo::ScriptBuilder expected;
  expected.EmitContractCall(kContract, "onServiceResponse", neo::CallFlags::All,
                            {neo::ContractParam::Int(7), neo::ContractParam::Int(0),
                             neo::ContractParam::Bytes({1, 2, 3}), neo::ContractParam::Bytes({9})});
  EXPECT_EQ(CallbackScript(*r, a), expected.data());

  ChainAnswer failure = ChainAnswer::Failure(StatusCode::kUnimplemented, "no such service");
  EXPECT_EQ(failure.code, 12u);
  EXPECT_EQ(std::string(failure.result.begin(), failure.result.end()), "no such service");
  EXPECT_TRUE(failure.signature.empty());
  EXPECT_EQ(ChainAnswer::FromStatus(NotFoundError("gone")).code, 5u);
  EXPECT_EQ(ChainAnswer::FromStatus(Status::Ok()).code, 13u);
}

// ---- RequestStore over SQLite ----------------------------------------------------------------

class ChainRequestStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ::neosl::testing::OpenTestStore({.path = dir_.File("neosl.db")});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = *std::move(s);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    records_ = std::make_unique<RequestStore>(*store_, clock_);
  }

  ChainRequest Request(std::string_view id, uint32_t index = 3) {
    json::array f = ValidFields();
    f[0] = Int(id);
    neo::NotificationEvent e = Event(f);
    e.index = index;
    return *ParseServiceRequest(e);
  }

  neosl::testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<RequestStore> records_;
};

TEST_F(ChainRequestStoreTest, RecordsEachKeyOnceAndTheCursorOnlyMovesForward) {
  EXPECT_EQ(*records_->Cursor("relay"), std::nullopt);
  std::vector<ChainRequest> block = {Request("1", 0), Request("2", 1)};
  auto fresh = records_->RecordBlock("relay", 42, block);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ(fresh->size(), 2u);
  EXPECT_EQ(*records_->Cursor("relay"), 42u);

  // A replay of the block, and a contract reusing id 2 in another notification: nothing new.
  std::vector<ChainRequest> again = {Request("1", 0), Request("2", 7), Request("3", 8)};
  fresh = records_->RecordBlock("relay", 40, again);
  ASSERT_TRUE(fresh.ok());
  ASSERT_EQ(fresh->size(), 1u);
  EXPECT_EQ((*fresh)[0].key.request_id.decimal(), "3");
  EXPECT_EQ(*records_->Cursor("relay"), 42u) << "a replay must not move the cursor back";
  EXPECT_EQ(*records_->Cursor("other"), std::nullopt);
  auto two = records_->Get(Request("2").key);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->request.notification_index, 1u) << "the first notification wins";

  ASSERT_TRUE(records_->RecordBlock("relay", 43, {}).ok());
  EXPECT_EQ(*records_->Cursor("relay"), 43u);
  auto unfinished = records_->Unfinished();
  ASSERT_TRUE(unfinished.ok());
  EXPECT_EQ(unfinished->size(), 3u);
}

// A follower that started without a cursor records the block before its first one, so that a
// stop before that first block commits resumes there; a cursor already there is left alone.
TEST_F(ChainRequestStoreTest, AFollowersFirstBlockStartsItsCursorJustBefore) {
  ASSERT_TRUE(records_->StartCursorBefore("deposits", 100).ok());
  EXPECT_EQ(*records_->Cursor("deposits"), 99u);
  ASSERT_TRUE(records_->StartCursorBefore("deposits", 150).ok());
  EXPECT_EQ(*records_->Cursor("deposits"), 99u) << "only a missing cursor is started";
  ASSERT_TRUE(records_->StartCursorBefore("genesis", 0).ok());
  EXPECT_EQ(*records_->Cursor("genesis"), std::nullopt) << "nothing comes before block 0";
  ASSERT_TRUE(records_->RecordBlock("deposits", 100, {}).ok());
  EXPECT_EQ(*records_->Cursor("deposits"), 100u);
  ASSERT_TRUE(records_->StartCursorBefore("deposits", 100).ok());
  EXPECT_EQ(*records_->Cursor("deposits"), 100u);
}

TEST_F(ChainRequestStoreTest, TransitionsCheckTheStateTheyLeave) {
  const ChainRequest r = Request("9");
  ASSERT_TRUE(records_->RecordBlock("relay", 42, std::vector{r}).ok());
  const RequestKey& key = r.key;
  const auto h1 = *neo::UInt256::Parse("0x" + std::string(63, '0') + "1");
  const auto h2 = *neo::UInt256::Parse("0x" + std::string(63, '0') + "2");

  // Nothing skips a state.
  EXPECT_EQ(records_->SaveTransaction(key, std::nullopt, h1, std::vector<uint8_t>{1}).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(records_->MarkAnswered(key, h1, 44).code(), StatusCode::kFailedPrecondition);

  ChainAnswer first = ChainAnswer::Success({1}, {2});
  ASSERT_TRUE(records_->SaveAnswer(key, first).ok());
  EXPECT_EQ(records_->SaveAnswer(key, ChainAnswer::Success({3}, {})).code(), StatusCode::kFailedPrecondition)
      << "a second answer must never replace the first";
  ASSERT_TRUE(records_->SaveTransaction(key, std::nullopt, h1, std::vector<uint8_t>{0xAA}).ok());
  EXPECT_EQ(records_->SaveTransaction(key, std::nullopt, h2, std::vector<uint8_t>{0xBB}).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(records_->SaveTransaction(key, h2, h2, std::vector<uint8_t>{0xBB}).code(), StatusCode::kFailedPrecondition)
      << "only the transaction on record can be replaced";
  ASSERT_TRUE(records_->SaveTransaction(key, h1, h2, std::vector<uint8_t>{0xBB}).ok());
  EXPECT_EQ(records_->MarkAnswered(key, h1, 44).code(), StatusCode::kFailedPrecondition);
  clock_.Advance(std::chrono::seconds(2));
  ASSERT_TRUE(records_->MarkAnswered(key, h2, 44).ok());
  EXPECT_EQ(records_->MarkFailed(key, h2, 44, "late").code(), StatusCode::kFailedPrecondition);

  auto rec = records_->Get(key);
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  EXPECT_EQ(rec->state, RequestState::kAnswered);
  EXPECT_EQ(rec->answer, first);
  EXPECT_EQ(rec->answer_tx_hash, h2);
  EXPECT_EQ(rec->answer_tx, std::vector<uint8_t>{0xBB});
  EXPECT_EQ(rec->answer_block_index, 44u);
  EXPECT_EQ(rec->attempts, 2);
  EXPECT_EQ(rec->received_at_ms + 2000, rec->answered_at_ms);
  EXPECT_TRUE(records_->Unfinished()->empty());
  EXPECT_EQ(records_->Get(Request("10").key).status().code(), StatusCode::kNotFound);
}

TEST_F(ChainRequestStoreTest, FailureKeepsTheReason) {
  const ChainRequest r = Request("11");
  ASSERT_TRUE(records_->RecordBlock("relay", 42, std::vector{r}).ok());
  ASSERT_TRUE(records_->SaveAnswer(r.key, ChainAnswer::Success({}, {})).ok());
  ASSERT_TRUE(records_->MarkFailed(r.key, std::nullopt, std::nullopt, "the test run FAULTed").ok());
  auto rec = records_->Get(r.key);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->state, RequestState::kFailed);
  EXPECT_EQ(rec->error, "the test run FAULTed");
  EXPECT_EQ(RequestStateName(rec->state), "failed");
  EXPECT_EQ(*ParseRequestState("answering"), RequestState::kAnswering);
  EXPECT_FALSE(ParseRequestState("done").ok());
}

}  // namespace
}  // namespace neosl::chain_requests
