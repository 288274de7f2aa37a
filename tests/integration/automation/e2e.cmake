# Through `neosl serve` on its embedded devchain: webhook, function and contract-call actions fired
# by interval, event and block triggers, paused, resumed and charged (e2e_test.cpp); kill -9 during
# a firing and restart (crash_test.cpp).
neosl_test(automation_e2e_test
  SOURCES e2e_test.cpp
  DEPS neosl_pricefeed_logic neosl_net_test_server neosl_gateway neosl_mesh neosl_devchain neosl_neo neosl_crypto neosl_core
       neosl_test_store Boost::json
  LABELS integration
  TIMEOUT 300
  POSTGRES)
add_dependencies(automation_e2e_test neosl)

neosl_test(automation_crash_test
  SOURCES crash_test.cpp
  DEPS neosl_net_test_server neosl_gateway neosl_mesh neosl_devchain neosl_neo neosl_crypto neosl_core
       neosl_test_store Boost::json
  LABELS integration
  TIMEOUT 300
  POSTGRES)
add_dependencies(automation_crash_test neosl)

# POST /v1/triggers/{id}/run: a contract call run by hand as an asynchronous operation, a webhook
# run synchronously, and the ids the caller cannot run (run_now_test.cpp).
neosl_test(automation_run_now_test
  SOURCES run_now_test.cpp
  DEPS neosl_net_test_server neosl_gateway neosl_mesh neosl_devchain neosl_neo neosl_crypto neosl_core
       neosl_test_store Boost::json
  LABELS integration
  TIMEOUT 300
  POSTGRES)
add_dependencies(automation_run_now_test neosl)
