# attestation tests: evidence encoding, the sim quoting enclave, the verifier and its policy.
neosl_test(tee_attestation_test
  SOURCES
    ${CMAKE_CURRENT_SOURCE_DIR}/attestation_test.cpp
    ${CMAKE_CURRENT_SOURCE_DIR}/verifier_test.cpp
  DEPS neosl_tee neosl_crypto neosl_core Boost::json
  LABELS unit)
