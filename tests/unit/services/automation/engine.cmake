# The engine (engine.h) on a real store with a manual clock, its actions real webhooks.
neosl_test(automation_engine_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/engine_test.cpp
           DEPS neosl_automation_engine neosl_net_test_server neosl_net neosl_tee neosl_schema neosl_store neosl_test_support neosl_core
                Boost::json
           LABELS integration)
# Manual runs (Engine::RunNow) and waiting for a run's end (run_waiter.h), on the same footing.
neosl_test(automation_manual_run_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/manual_run_test.cpp
           DEPS neosl_automation_engine neosl_net_test_server neosl_net neosl_tee neosl_schema neosl_store neosl_test_support neosl_core
                Boost::json
           LABELS integration)
