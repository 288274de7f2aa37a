#include "services/random/random_service.h"

#include <algorithm>
#include <utility>

#include "core/business_metrics.h"
#include "core/encoding.h"
#include "core/ids.h"
#include "crypto/ecvrf.h"
#include "services/random/random_core.h"

namespace neosl::services {
namespace {

using random::Word;

// The fee schedule's operation for a request, priced per request and per word.
constexpr std::string_view kGenerateOperation = "random.generate";
constexpr size_t kThreads = 4;
constexpr size_t kQueue = 1024;  // requests waiting for those threads before RESOURCE_EXHAUSTED

Status Busy() {
  return ResourceExhaustedError("the random service is busy; retry later")
      .WithDetail(ErrorDetail{"QuotaFailure", {}}.Add("resource", "random service queue"));
}

// An API request's answer, counted once it is final (stored, or refused).
Status Counted(Status answer, int num_words) {
  metrics::Random().requests.Inc({"api", metrics::OutcomeOf(answer)});
  if (answer.ok()) metrics::Random().words.Inc({"api"}, uint64_t(num_words));
  return answer;
}

StatusOr<AccountId> CallerAccount(const mesh::CallContext& call) {
  if (call.account.empty() || !AccountId::IsWellFormed(call.account)) {
    return PermissionDeniedError("random requests belong to an account: the call carries none");
  }
  return AccountId(call.account);
}

StatusOr<std::vector<uint8_t>> HexField(std::string_view field, std::string_view hex) {
  auto bytes = HexDecode(hex);
  if (!bytes) return FieldViolationError(field, std::string(field) + " must be hex digits, an even number of them");
  return *bytes;
}

void AddWords(std::span<const uint8_t> output, int n, google::protobuf::RepeatedPtrField<std::string>* out) {
  for (const Word& w : random::Words(output, n)) *out->Add() = HexEncode(w);
}

struct Row {
  std::string id;
  std::vector<uint8_t> seed, alpha, output, proof, public_key;
  int64_t num_words = 0;
  int64_t created_at_ms = 0;
};

void RowToProto(const Row& r, randompb::RandomResult* out) {
  out->set_request_id(r.id);
  out->set_seed(HexEncode(r.seed));
  out->set_num_words(int32_t(r.num_words));
  out->set_alpha(HexEncode(r.alpha));
  AddWords(r.output, int(r.num_words), out->mutable_randomness());
  out->set_output(HexEncode(r.output));
  out->set_proof(HexEncode(r.proof));
  out->set_public_key(HexEncode(r.public_key));
  out->set_created_at(FormatRfc3339Millis(r.created_at_ms));
}

}  // namespace

RandomService::RandomService(mesh::Pipeline& pipeline, store::Store& store, VrfProver prover, crypto::PublicKey vrf_key,
                             const Clock& clock, RandomSource& random, gasbank::GasCharger charger)
    : pipeline_(pipeline),
      store_(store),
      prover_(std::move(prover)),
      vrf_key_(std::move(vrf_key)),
      vrf_key_hex_(HexEncode(vrf_key_.Compressed())),
      clock_(clock),
      random_(random),
      charger_(charger),
      work_(std::make_unique<WorkQueue>(kThreads, kQueue)) {}

RandomService::~RandomService() {
  work_.reset();
}

grpc::ServerUnaryReactor* RandomService::GenerateRandom(grpc::CallbackServerContext* ctx,
                                                        const randompb::GenerateRandomRequest* request,
                                                        randompb::RandomResult* response) {
  return pipeline_.UnaryAsync(ctx, kIdentity, "GenerateRandom",
                              [this, request, response](const std::shared_ptr<const mesh::CallContext>& call,
                                                        const mesh::Pipeline::Done& done) {
                                bool queued = work_->TrySubmit([this, call, request, response, done] {
                                  mesh::ScopedCall scope(call.get());
                                  done(Counted(Generate(*call, *request, response), request->num_words()));
                                });
                                if (!queued) done(Counted(Busy(), 0));
                              });
}

grpc::ServerUnaryReactor* RandomService::GetRandom(grpc::CallbackServerContext* ctx,
                                                   const randompb::GetRandomRequest* request,
                                                   randompb::RandomResult* response) {
  return pipeline_.Unary(ctx, kIdentity, "GetRandom",
                         [&](const mesh::CallContext& call) { return Get(call, *request, response); });
}

grpc::ServerUnaryReactor* RandomService::VerifyRandom(grpc::CallbackServerContext* ctx,
                                                      const randompb::VerifyRandomRequest* request,
                                                      randompb::VerifyRandomResponse* response) {
  return pipeline_.Unary(ctx, kIdentity, "VerifyRandom", [&](const mesh::CallContext&) {
    Status s = VerifyRandomProof(*request, response);
    metrics::Random().verifications.Inc({!s.ok() ? "refused" : response->valid() ? "valid" : "invalid"});
    return s;
  });
}

StatusOr<RandomService::Drawn> RandomService::Draw(std::string_view account, std::string_view request_id,
                                                   std::span<const uint8_t> seed, int num_words) {
  RETURN_IF_ERROR(random::CheckWordCount(num_words));
  if (seed.size() > random::kMaxSeedBytes) {
    return FieldViolationError("seed", "seed is over " + std::to_string(random::kMaxSeedBytes) + " bytes");
  }
  Drawn d;
  d.alpha = random::Alpha(account, request_id, seed);
  ASSIGN_OR_RETURN(d.vrf, prover_(d.alpha));
  d.words = random::Words(d.vrf.output, num_words);
  return d;
}

Status RandomService::Generate(const mesh::CallContext& call, const randompb::GenerateRandomRequest& request,
                               randompb::RandomResult* response) {
  ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
  RETURN_IF_ERROR(random::CheckWordCount(request.num_words()));
  ASSIGN_OR_RETURN(std::vector<uint8_t> seed, random::ParseSeed(request.seed()));
  Row row;
  row.id = RandomRequestId::Generate(random_).str();
  const gasbank::Units words = {{"word", request.num_words()}};
  // Held before the enclave proves: an account that cannot pay gets no proof.
  ASSIGN_OR_RETURN(gasbank::ChargeHold hold, charger_.Reserve(account.str(), kGenerateOperation, words, row.id));
  Status stored = [&]() -> Status {
    ASSIGN_OR_RETURN(Drawn drawn, Draw(account.str(), row.id, seed, request.num_words()));
    row.seed = std::move(seed);
    row.alpha = std::move(drawn.alpha);
    row.output.assign(drawn.vrf.output.begin(), drawn.vrf.output.end());
    row.proof.assign(drawn.vrf.proof.begin(), drawn.vrf.proof.end());
    const auto key = vrf_key_.Compressed();
    row.public_key.assign(key.begin(), key.end());
    row.num_words = request.num_words();
    row.created_at_ms = clock_.NowUnixMillis();
    return store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) {
      return tx
          .Exec(
              "INSERT INTO random_requests (id, account_id, seed, num_words, alpha, output, proof, public_key, "
              "created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {row.id, account.str(), store::Blob(row.seed), row.num_words, store::Blob(row.alpha),
               store::Blob(row.output), store::Blob(row.proof), store::Blob(row.public_key), row.created_at_ms})
          .status();
    });
  }();
  if (!stored.ok()) {
    (void)charger_.Release(hold);
    return stored;
  }
  // Stored, so the caller can read it again whatever happens next: it is paid for. A charge the
  // bank does not take is logged and the hold expires; the answer stands.
  (void)charger_.Charge(hold, words);
  RowToProto(row, response);
  return Status();
}

Status RandomService::Get(const mesh::CallContext& call, const randompb::GetRandomRequest& request,
                          randompb::RandomResult* response) {
  ASSIGN_OR_RETURN(AccountId account, CallerAccount(call));
  if (!RandomRequestId::IsWellFormed(request.id())) {
    return FieldViolationError("id", "id must look like rnd_ followed by 20 characters");
  }
  ASSIGN_OR_RETURN(auto rows, store_.Query("SELECT id, seed, num_words, alpha, output, proof, public_key, "
                                           "created_at_ms FROM random_requests WHERE id = ? AND account_id = ?",
                                           {request.id(), account.str()}));
  if (rows.empty()) {
    return NotFoundError("no random request " + request.id())
        .WithDetail(
            ErrorDetail{"ResourceInfo", {}}.Add("resource_type", "random request").Add("resource_name", request.id()));
  }
  const store::Row& r = rows[0];
  Row row;
  ASSIGN_OR_RETURN(row.id, r.Text(0));
  ASSIGN_OR_RETURN(row.seed, r.Bytes(1));
  ASSIGN_OR_RETURN(row.num_words, r.Int(2));
  ASSIGN_OR_RETURN(row.alpha, r.Bytes(3));
  ASSIGN_OR_RETURN(row.output, r.Bytes(4));
  ASSIGN_OR_RETURN(row.proof, r.Bytes(5));
  ASSIGN_OR_RETURN(row.public_key, r.Bytes(6));
  ASSIGN_OR_RETURN(row.created_at_ms, r.Int(7));
  RowToProto(row, response);
  return Status();
}

Status VerifyRandomProof(const randompb::VerifyRandomRequest& request, randompb::VerifyRandomResponse* response) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> key, HexField("public_key", request.public_key()));
  ASSIGN_OR_RETURN(std::vector<uint8_t> alpha, HexField("alpha", request.alpha()));
  ASSIGN_OR_RETURN(std::vector<uint8_t> proof, HexField("proof", request.proof()));
  RETURN_IF_ERROR(random::CheckWordCount(request.num_words(), /*allow_zero=*/true));
  auto beta = crypto::ecvrf::Verify(key, proof, alpha);
  if (!beta.ok()) {
    response->set_valid(false);
    response->set_reason(std::string(beta.status().message()));
    return Status();
  }
  response->set_valid(true);
  response->set_output(HexEncode(*beta));
  AddWords(*beta, request.num_words(), response->mutable_randomness());
  return Status();
}

}  // namespace neosl::services
