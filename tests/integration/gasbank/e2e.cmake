# Through `neosl serve` on its embedded devchain: deposit, use, withdraw, audit (e2e_test.cpp);
# kill -9 at the gas bank's crash points and restart (crash_test.cpp).
neosl_test(gasbank_e2e_test
  SOURCES e2e_test.cpp
  DEPS neosl_gateway neosl_mesh neosl_devchain neosl_neo neosl_crypto neosl_core neosl_test_store Boost::json
  LABELS integration
  TIMEOUT 240
  POSTGRES)
add_dependencies(gasbank_e2e_test neosl)

neosl_test(gasbank_crash_test
  SOURCES crash_test.cpp
  DEPS neosl_gateway neosl_mesh neosl_devchain neosl_neo neosl_crypto neosl_core neosl_test_store Boost::json
  LABELS integration
  TIMEOUT 600
  POSTGRES)
add_dependencies(gasbank_crash_test neosl)
