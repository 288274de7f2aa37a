# The gas bank service over an in-process mesh with SQLite, and its REST routes through the
# gateway (tests/integration/gasbank/service_test.cpp); the usage report's parsing and CSV on
# their own (usage_test.cpp).
neosl_test(gasbank_service_test
  SOURCES service_test.cpp
  DEPS neosl_service_gasbank neosl_gateway neosl_chain_tx neosl_neo neosl_schema neosl_store neosl_test_store Boost::json
  LABELS integration
  TIMEOUT 180
  POSTGRES)

neosl_test(gasbank_usage_test
  SOURCES usage_test.cpp
  DEPS neosl_service_gasbank
  LABELS unit)
