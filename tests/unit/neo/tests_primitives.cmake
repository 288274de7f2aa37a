# N3 payloads (src/neo/sources_primitives.cmake): binary codecs, limits, vectors and RPC JSON.
list(APPEND NEOSL_NEO_TEST_SOURCES primitives_witness_test.cpp primitives_attribute_test.cpp
     primitives_transaction_test.cpp primitives_block_test.cpp primitives_json_test.cpp)
