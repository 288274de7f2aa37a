// HttpServer's handler threads: requests its blocking predicate picks wait on another service
// without holding up the I/O thread's other connections, keep their order on a connection, and
// end cleanly at Stop.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "gateway/server.h"
#include "support/http_client.h"

namespace neosl::gateway {
namespace {

using namespace std::chrono_literals;
using testing::RawConnection;

std::string Get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n";
}

// A handler whose /slow requests wait for the test to release them.
class Gate {
 public:
  void Handle(const HttpRequest& request, HttpResponse& response) {
    response.content_type = "text/plain";
    if (request.Path() == "/slow") {
      entered_.fetch_add(1);
      entered_cv_.notify_all();
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return open_; });
      response.body = "slow";
    } else {
      response.body = "fast";
    }
  }
  bool WaitEntered(int n) {
    std::unique_lock lock(entered_mu_);
    return entered_cv_.wait_for(lock, 10s, [&] { return entered_.load() >= n; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int entered() const { return entered_.load(); }

 private:
  std::mutex mu_, entered_mu_;
  std::condition_variable cv_, entered_cv_;
  bool open_ = false;
  std::atomic<int> entered_{0};
};

// One event loop (a blocking handler on it would stall every connection) and `handler_threads`
// for the /slow requests.
class HttpServerHandlerThreads : public ::testing::Test {
 protected:
  void Start(int handler_threads) {
    ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 1;
    o.handler_threads = handler_threads;
    o.blocking = [](const HttpRequest& r) { return r.Path() == "/slow"; };
    server_ = std::make_unique<HttpServer>(o, [this](const HttpRequest& q, HttpResponse& r) { gate_.Handle(q, r); });
    auto address = server_->Start();
    ASSERT_TRUE(address.ok()) << address.status().ToString();
    address_ = *address;
  }
  void TearDown() override {
    gate_.Open();
    if (server_) server_->Stop();
  }

  Gate gate_;
  std::unique_ptr<HttpServer> server_;
  std::string address_;
};

TEST_F(HttpServerHandlerThreads, ABlockingRequestDoesNotHoldUpOtherConnections) {
  ASSERT_NO_FATAL_FAILURE(Start(2));

  RawConnection slow(address_), fast(address_);
  ASSERT_TRUE(slow.Send(Get("/slow")));
  ASSERT_TRUE(gate_.WaitEntered(1));
  ASSERT_TRUE(fast.Send(Get("/fast")));
  auto answer = fast.ReadResponse(10s);
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "fast");

  gate_.Open();
  auto late = slow.ReadResponse(10s);
  EXPECT_EQ(late.status, 200);
  EXPECT_EQ(late.body, "slow");
}

TEST_F(HttpServerHandlerThreads, PipelinedRequestsStayInOrder) {
  ASSERT_NO_FATAL_FAILURE(Start(2));

  RawConnection c(address_);
  ASSERT_TRUE(c.Send(Get("/slow") + Get("/fast") + Get("/slow")));
  ASSERT_TRUE(gate_.WaitEntered(1));
  gate_.Open();
  EXPECT_EQ(c.ReadResponse(10s).body, "slow");
  EXPECT_EQ(c.ReadResponse(10s).body, "fast");
  EXPECT_EQ(c.ReadResponse(10s).body, "slow");
}

TEST_F(HttpServerHandlerThreads, StopWaitsForTheRunningHandlerAndNothingRunsAfterIt) {
  ASSERT_NO_FATAL_FAILURE(Start(1));

  RawConnection first(address_), second(address_);
  ASSERT_TRUE(first.Send(Get("/slow")));
  ASSERT_TRUE(gate_.WaitEntered(1));
  ASSERT_TRUE(second.Send(Get("/slow")));  // waits for the one handler thread
  // By the time a third connection is answered the loop has (almost surely) queued the second;
  // either way, nothing may run once Stop has returned.
  RawConnection probe(address_);
  ASSERT_TRUE(probe.Send(Get("/fast")));
  ASSERT_EQ(probe.ReadResponse(10s).status, 200);

  std::thread stopper([this] { server_->Stop(); });
  gate_.Open();    // Stop cannot return before the running handler does
  stopper.join();  // … and returns once it has, the queued one run or dropped
  const int ran = gate_.entered();
  EXPECT_GE(ran, 1);
  EXPECT_TRUE(second.WaitForClose(10s));
  EXPECT_EQ(gate_.entered(), ran) << "a handler ran after Stop returned";
}

}  // namespace
}  // namespace neosl::gateway
