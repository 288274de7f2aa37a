// The SpiderMonkey engine in-process: the host API, isolation between invocations, every limit
// and error path, and the sandbox-escape attempts of issue #8. The InvocationHost here answers
// from tables (the worker's real host, with the enclave's secrets and the fetcher, is tested in
// tests/integration/functions).
#include "runtime/engine.h"

#include <fcntl.h>
#include <map>
#include <memory>
#include <string>
#include <unistd.h>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/hash.h"

namespace neosl::runtime {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class TableHost final : public InvocationHost {
 public:
  StatusOr<std::span<const uint8_t>> Secret(std::string_view name) override {
    auto it = secrets.find(std::string(name));
    if (it == secrets.end()) return NotFoundError("secret '" + std::string(name) + "' is not granted to this function");
    return std::span(reinterpret_cast<const uint8_t*>(it->second.data()), it->second.size());
  }
  StatusOr<FetchResult> Fetch(const FetchCall& call) override {
    fetches.push_back(call);
    if (call.url.find("private") != std::string::npos) return PermissionDeniedError("destination not allowed");
    FetchResult r;
    r.status = 200;
    r.status_text = "OK";
    r.headers = {{"content-type", "application/json"}};
    const std::string body = R"({"price":42.5,"echo":")" + call.method + R"("})";
    r.body.assign(body.begin(), body.end());
    r.url = call.url;
    return r;
  }
  StatusOr<std::string> NeoInvokeRead(std::string_view contract, std::string_view method,
                                      std::string_view args_json) override {
    return R"({"state":"HALT","contract":")" + std::string(contract) + R"(","method":")" + std::string(method) +
           R"(","args":)" + std::string(args_json) + "}";
  }
  void Log(const LogLine& line) override { live.push_back(line.message); }
  void Random(std::span<uint8_t> out) override {
    for (auto& b : out) b = static_cast<uint8_t>(counter++ * 37 + 11);
  }
  int64_t NowUnixMillis() override { return 1'700'000'000'000; }

  std::map<std::string, std::string> secrets;
  std::vector<FetchCall> fetches;
  std::vector<std::string> live;
  int counter = 1;
};

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    statm_ = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    EngineOptions options;
    options.statm_fd = statm_;
    auto engine = Engine::Create(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = engine->release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
    close(statm_);
    Engine::ShutdownProcess();
  }

  Outcome Run(const std::string& source, const std::string& args = "null", Limits limits = {}) {
    Invocation inv;
    inv.account = "acc_aaaaaaaaaaaaaaaaaaaa";
    inv.function_id = "fn_aaaaaaaaaaaaaaaaaaaa";
    inv.version = ++version_;  // a new version each time: cold unless a test says otherwise
    inv.execution_id = "ex_aaaaaaaaaaaaaaaaaaaa";
    inv.source = source;
    auto h = crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(source.data()), source.size()));
    std::copy(h.begin(), h.end(), inv.source_hash.begin());
    inv.args_json = args;
    inv.limits = limits;
    return engine_->Run(inv, host_);
  }

  static Engine* engine_;
  static int statm_;
  static uint32_t version_;
  TableHost host_;
};
Engine* EngineTest::engine_ = nullptr;
int EngineTest::statm_ = -1;
uint32_t EngineTest::version_ = 0;

TEST_F(EngineTest, RunsAnAsyncDefaultExportWithArgsAndLogs) {
  auto out = Run(R"js(
    export default async function (request, context) {
      console.log('hello', {a: 1}, [2]);
      console.warn('careful');
      return {sum: request.args.reduce((a, b) => a + b, 0), trigger: request.trigger, fn: request.functionId};
    })js",
                 "[1,2,3]");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString() << " " << out.error.stack;
  EXPECT_EQ(out.result_json, R"({"sum":6,"trigger":"api","fn":"fn_aaaaaaaaaaaaaaaaaaaa"})");
  ASSERT_EQ(out.logs.size(), 2u);
  EXPECT_EQ(out.logs[0].level, "log");
  EXPECT_EQ(out.logs[0].message, R"(hello {"a":1} [2])");
  EXPECT_EQ(out.logs[1].level, "warn");
  EXPECT_EQ(host_.live.size(), 2u);  // streamed as written
  EXPECT_TRUE(out.cold);
  EXPECT_GT(out.duration.count(), 0);
}

TEST_F(EngineTest, AWarmInvocationReusesTheCompiledVersion) {
  Invocation inv;
  inv.function_id = "fn_bbbbbbbbbbbbbbbbbbbb";
  inv.version = 7;
  inv.source = "export default () => 1 + 1;";
  inv.args_json = "null";
  const auto before = engine_->stats().compilations;
  auto first = engine_->Run(inv, host_);
  auto second = engine_->Run(inv, host_);
  ASSERT_TRUE(first.status.ok() && second.status.ok()) << first.status.ToString();
  EXPECT_TRUE(first.cold);
  EXPECT_FALSE(second.cold);
  EXPECT_EQ(second.result_json, "2");
  EXPECT_EQ(engine_->stats().compilations, before + 1);
}

TEST_F(EngineTest, SyntaxErrorsCarryLineAndColumn) {
  auto out = Run("export default function () {\n  let x = ;\n}");
  EXPECT_EQ(out.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.error.line, 2);
  EXPECT_EQ(out.error.column, 11);
  EXPECT_THAT(std::string(out.status.message()), HasSubstr("function.js:2:11"));
  EXPECT_THAT(out.error_json, HasSubstr("\"code\":\"INVALID_ARGUMENT\""));
  ScriptError e;
  EXPECT_EQ(engine_->Check("export default ()=>{\n\n  }}", &e).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(e.line, 3);
  EXPECT_TRUE(engine_->Check("export default async (r, c) => r.args;", &e).ok());
  EXPECT_EQ(engine_->Check("import fs from 'fs';\nexport default () => 1;", &e).code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(e.message, HasSubstr("imports are not available"));
  EXPECT_EQ(e.line, 1);
}

TEST_F(EngineTest, UncaughtExceptionsAndRejectionsCarryTheStack) {
  auto out =
      Run("function inner() { throw new TypeError('bad input'); }\n"
          "export default function () { inner(); }");
  EXPECT_EQ(out.status.code(), StatusCode::kUnknown);
  EXPECT_EQ(out.error.message, "TypeError: bad input");
  EXPECT_THAT(out.error.stack, HasSubstr("inner@function.js:1:"));
  EXPECT_EQ(out.error.line, 1);
  out = Run("export default async function () { await null; throw new Error('later'); }");
  EXPECT_EQ(out.status.code(), StatusCode::kUnknown);
  EXPECT_EQ(out.error.message, "Error: later");
  out = Run("export default function () { throw 'a string'; }");
  EXPECT_EQ(out.status.code(), StatusCode::kUnknown);
  EXPECT_EQ(out.error.message, "a string");
  out = Run("export default 42;");
  EXPECT_EQ(out.status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(out.status.message()), HasSubstr("no default export function"));
  out = Run("throw new Error('at the top');\nexport default () => 1;");
  EXPECT_EQ(out.status.code(), StatusCode::kUnknown);
  out = Run("const v = await Promise.resolve(5);\nexport default () => v;");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.result_json, "5");
}

TEST_F(EngineTest, ABusyLoopIsStoppedAtItsTimeLimitAndTheEngineLivesOn) {
  auto out = Run("export default function () { for (;;) {} }", "null", Limits{std::chrono::milliseconds(200)});
  EXPECT_EQ(out.status.code(), StatusCode::kDeadlineExceeded) << out.status.ToString();
  EXPECT_THAT(std::string(out.status.message()), HasSubstr("200 ms"));
  EXPECT_LT(out.duration, std::chrono::milliseconds(2000));
  out = Run("export default async function () { await null; while (true) { [1,2,3].map(x => x); } }", "null",
            Limits{std::chrono::milliseconds(150)});
  EXPECT_EQ(out.status.code(), StatusCode::kDeadlineExceeded) << out.status.ToString();
  out = Run("export default () => 'still here';");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.result_json, "\"still here\"");
}

TEST_F(EngineTest, AMemoryBombIsStoppedAtItsLimitAndTheEngineLivesOn) {
  Limits limits;
  limits.memory_bytes = kMinMemoryBytes;
  auto out = Run("export default function () { const a = []; for (;;) a.push({x: a.length, s: 'v' + a.length}); }",
                 "null", limits);
  EXPECT_EQ(out.status.code(), StatusCode::kResourceExhausted) << out.status.ToString();
  EXPECT_THAT(std::string(out.status.message()), HasSubstr("memory limit of 16 MB"));
  // Memory the GC heap does not count: typed-array contents, bounded by the address-space limit.
  out =
      Run("export default function () { const k = []; for (let i = 0; i < 100; i++) { const b = new "
          "Uint8Array(16 << 20); b.fill(1); k.push(b); } return k.length; }",
          "null", limits);
  EXPECT_EQ(out.status.code(), StatusCode::kResourceExhausted) << out.status.ToString();
  // Catching the error does not let a function keep what it was refused.
  out =
      Run("export default function () { try { const a = []; for (;;) a.push([a.length]); } catch (e) { return "
          "'caught'; } }",
          "null", limits);
  EXPECT_EQ(out.status.code(), StatusCode::kResourceExhausted) << out.status.ToString();
  engine_->CollectGarbage();
  out = Run("export default () => new Array(1000).fill(7).length;");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.result_json, "1000");
}

TEST_F(EngineTest, APromiseThatNeverSettlesFailsAtOnce) {
  auto out = Run("export default async function () { await new Promise(() => {}); return 1; }");
  EXPECT_EQ(out.status.code(), StatusCode::kFailedPrecondition) << out.status.ToString();
  EXPECT_THAT(std::string(out.status.message()), HasSubstr("never settles"));
  EXPECT_LT(out.duration, std::chrono::milliseconds(1000));
}

TEST_F(EngineTest, SandboxEscapesFail) {
  struct Case {
    const char* body;
    const char* want;  // in the error message
  };
  const Case cases[] = {
      {"return require('fs');", "require is not defined"},
      {"return process.env;", "process is not defined"},
      {"return eval('1 + 1');", "eval"},
      {"return new Function('return 1')();", "Function"},
      {"return (function(){}).constructor('return this')();", "Function"},
      {"return (async function(){}).constructor('return 1')();", "Function"},
      {"return await import('fs');", ""},
      {"return typeof setTimeout === 'undefined' ? (() => { throw new Error('no timers'); })() : 1;", "no timers"},
      {"return typeof WebAssembly === 'undefined' ? (() => { throw new Error('no wasm'); })() : 1;", "no wasm"},
      {"return typeof SharedArrayBuffer === 'undefined' ? (() => { throw new Error('no sab'); })() : 1;", "no sab"},
      {"return load('/etc/passwd');", "load is not defined"},
      {"return os.file.readFile('/etc/passwd');", "os is not defined"},
  };
  for (const auto& c : cases) {
    auto out = Run(std::string("export default async function (request, context) { ") + c.body + " }");
    EXPECT_FALSE(out.status.ok()) << c.body << " → " << out.result_json;
    EXPECT_THAT(out.error.message + std::string(out.status.message()), HasSubstr(c.want)) << c.body;
  }
  // A module that imports is refused at link time.
  auto out = Run("import x from 'os';\nexport default () => x;");
  EXPECT_EQ(out.status.code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, EveryInvocationGetsAFreshGlobal) {
  auto out = Run(R"js(export default function (request, context) {
      Object.prototype.polluted = 'yes';
      Array.prototype.push = () => { throw new Error('hijacked'); };
      JSON.stringify = () => 'hijacked';
      globalThis.leftover = 1;
      try { context.secrets.get = () => 'stolen'; } catch (e) { /* frozen */ }
      return typeof context.secrets.get('x') === 'string' ? 'replaced' : 1;
    })js");
  EXPECT_FALSE(out.status.ok());  // the secret 'x' is not granted: get() still throws, it was not replaced
  EXPECT_THAT(out.error.message, HasSubstr("not granted"));
  out = Run(R"js(export default function (request, context) {
      const a = [];
      a.push(1);
      return [({}).polluted === undefined, typeof leftover, JSON.stringify({b: 2}), a.length,
              Object.isFrozen(context.secrets)];
    })js");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString() << out.error.stack;
  EXPECT_EQ(out.result_json, R"([true,"undefined","{\"b\":2}",1,true])");
}

TEST_F(EngineTest, ResultsMustBeJsonWithinTheLimit) {
  EXPECT_EQ(Run("export default () => {};").result_json, "null");
  EXPECT_EQ(Run("export default () => 'x'.repeat(300000);").status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Run("export default () => () => 1;").status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Run("export default () => 10n;").status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Run("export default () => { const a = {}; a.a = a; return a; };").status.code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Run("export default () => '\\u00e9\\ud83d\\ude00';").result_json, "\"é😀\"");
}

TEST_F(EngineTest, LogsAreCappedInLinesAndBytes) {
  auto out =
      Run("export default () => { for (let i = 0; i < 150; i++) console.log('line', i); "
          "return 1; }");
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(out.logs.size(), kMaxLogLines);
  EXPECT_TRUE(out.logs_truncated);
  out = Run("export default () => { console.error('é'.repeat(5000)); return 1; }");
  ASSERT_EQ(out.logs.size(), 1u);
  EXPECT_LE(out.logs[0].message.size(), kMaxLogLineBytes + 20);
  EXPECT_THAT(out.logs[0].message, ::testing::EndsWith("[truncated]"));
  EXPECT_EQ(out.logs[0].level, "error");
}

TEST_F(EngineTest, SecretsAreReadThroughTheHost) {
  host_.secrets["API_KEY"] = "s3cr3t-välue";
  auto out = Run(R"js(export default async function (request, context) {
      let missing;
      try { context.secrets.get('OTHER'); } catch (e) { missing = e.code + ': ' + e.message; }
      return [context.secrets.get('API_KEY'), missing];
    })js");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.result_json, R"(["s3cr3t-välue","NOT_FOUND: secret 'OTHER' is not granted to this function"])");
}

TEST_F(EngineTest, WebApisBehaveAsOnTheWeb) {
  auto out = Run(R"js(export default async function (request, context) {
      const bytes = new TextEncoder().encode('héllo 😀');
      const back = new TextDecoder().decode(bytes);
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc')));
      const hex = Array.from(digest, b => b.toString(16).padStart(2, '0')).join('');
      const r = crypto.getRandomValues(new Uint32Array(4));
      let badDecode;
      try { new TextDecoder('utf-8', {fatal: true}).decode(new Uint8Array([0xff])); } catch (e) { badDecode = 'threw'; }
      return {len: bytes.length, back, hex, filled: r.every(x => x !== 0), uuid: crypto.randomUUID(),
              lossy: new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0x62])), badDecode,
              same: context.crypto === crypto && context.TextEncoder === TextEncoder};
    })js");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString() << out.error.stack;
  auto v = boost::json::parse(out.result_json).as_object();
  EXPECT_EQ(v["len"].as_int64(), 11);
  EXPECT_EQ(v["back"].as_string(), "héllo 😀");
  EXPECT_EQ(v["hex"].as_string(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(v["filled"].as_bool());
  EXPECT_THAT(std::string(v["uuid"].as_string()),
              ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  EXPECT_EQ(v["lossy"].as_string(),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(v["badDecode"].as_string(), "threw");
  EXPECT_TRUE(v["same"].as_bool());
}

TEST_F(EngineTest, FetchAndNeoReadsGoThroughTheHostWithinTheirLimits) {
  auto out = Run(R"js(export default async function (request, context) {
      const r = await fetch('https://api.example.com/price', {method: 'post', headers: {'X-Key': 'k'}, body: {q: 1}});
      const j = await r.json();
      let denied;
      try { await context.fetch('https://private.example/'); } catch (e) { denied = e.code; }
      const neo = await context.neo.invokeRead('0xd2a4cff31913016155e38e474a2c06d08be276cf', 'balanceOf', [1]);
      return {status: r.status, ok: r.ok, type: r.headers.get('Content-Type'), price: j.price, method: j.echo, denied,
              neo: neo.state + ':' + neo.method + ':' + JSON.stringify(neo.args)};
    })js");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString() << out.error.stack;
  EXPECT_EQ(
      out.result_json,
      R"({"status":200,"ok":true,"type":"application/json","price":42.5,"method":"POST","denied":"PERMISSION_DENIED","neo":"HALT:balanceOf:[1]"})");
  ASSERT_EQ(host_.fetches.size(), 2u);
  EXPECT_EQ(host_.fetches[0].method, "POST");
  EXPECT_EQ(std::string(host_.fetches[0].body.begin(), host_.fetches[0].body.end()), R"({"q":1})");
  bool saw_type = false;
  for (const auto& [k, v] : host_.fetches[0].headers) saw_type |= (k == "content-type" && v == "application/json");
  EXPECT_TRUE(saw_type);
  EXPECT_LE(host_.fetches[0].timeout, kMaxFetchTimeout);

  out = Run(R"js(export default async function () {
      for (let i = 0; i < 6; i++) { try { await fetch('https://a.example/' + i); } catch (e) { return [i, e.code]; } }
    })js");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.result_json, R"([5,"RESOURCE_EXHAUSTED"])");
}

TEST_F(EngineTest, FixedLimitsAreCheckedBeforeRunning) {
  EXPECT_EQ(Run("export default () => 1;", std::string(kMaxArgsBytes + 1, ' ')).status.code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Run("export default () => 1;", "{not json").status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Run("export default () => 1;//" + std::string(kMaxSourceBytes, 'x')).status.code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Run("export default () => 1;", "null", Limits{std::chrono::milliseconds(60'000)}).status.code(),
            StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, DeepRecursionIsAnErrorNotACrash) {
  auto out = Run("function f(n) { return f(n + 1) + 1; }\nexport default () => f(0);");
  EXPECT_EQ(out.status.code(), StatusCode::kUnknown);
  EXPECT_THAT(out.error.message, HasSubstr("too much recursion"));
}

}  // namespace
}  // namespace neosl::runtime
