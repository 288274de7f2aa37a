# GET /metrics through the real binary: business counters and the text format (issue #14).
# Included from tests/integration, hence CMAKE_CURRENT_LIST_DIR.
neosl_test(metrics_integration_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/metrics_test.cpp
  DEPS neosl_test_store Boost::json
  LABELS integration
  TIMEOUT 180
  POSTGRES)
add_dependencies(metrics_integration_test neosl)
