# The price feed's venue adapters and exact decimals (venues.h, decimal.h), against the venues'
# recorded answers in tests/data/pricefeed/.
neosl_test(pricefeed_venues_test
  SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/decimal_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/venues_test.cpp
  DEPS neosl_pricefeed_venues
  LABELS unit)
# The test reads the recorded answers from the source tree.
target_compile_definitions(pricefeed_venues_test PRIVATE NEOSL_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
