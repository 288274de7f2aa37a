# `neosl audit verify` through the real binary, over a database and an export made with the
# audit library. Included from tests/integration, hence CMAKE_CURRENT_LIST_DIR.
neosl_test(audit_cli_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/audit_cli_test.cpp
  DEPS neosl_audit neosl_store neosl_schema neosl_test_store Boost::json
  LABELS integration
  POSTGRES)
add_dependencies(audit_cli_test neosl)
