# `neosl vrf prove|verify` through the real binary. Included from tests/integration, hence
# CMAKE_CURRENT_LIST_DIR.
neosl_test(vrf_cli_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/vrf_cli_test.cpp
  DEPS neosl_test_store Boost::json
  LABELS integration)
add_dependencies(vrf_cli_test neosl)
