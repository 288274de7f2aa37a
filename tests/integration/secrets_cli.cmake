# `neosl secrets put|list|delete` through the real binary against a real `neosl serve`.
# Included from tests/integration, hence CMAKE_CURRENT_LIST_DIR.
neosl_test(secrets_cli_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/secrets_cli_test.cpp
  DEPS neosl_test_store Boost::json
  LABELS integration
  TIMEOUT 120
  POSTGRES)
add_dependencies(secrets_cli_test neosl)
