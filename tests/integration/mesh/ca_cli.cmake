# neosl ca CLI tests: init → issue → list → revoke through the real binary. Included from
# tests/integration, hence CMAKE_CURRENT_LIST_DIR.
neosl_test(mesh_ca_cli_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ca_cli_test.cpp
  DEPS neosl_test_store Boost::json
  LABELS integration)
add_dependencies(mesh_ca_cli_test neosl)
