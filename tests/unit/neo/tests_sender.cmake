list(APPEND NEOSL_NEO_TEST_SOURCES tx_sender_test.cpp)
